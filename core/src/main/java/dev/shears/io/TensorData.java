package dev.shears.io;

import dev.shears.tensor.DenseTensor;

/**
 * A named tensor in fp32 with its shape, as read from or written to a file.
 *
 * @param name   the name in the file
 * @param shape  dimensions, outermost first
 * @param values row-major, {@code product(shape)} elements
 */
public record TensorData(String name, int[] shape, float[] values) {
    public TensorData {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != values.length) throw new IllegalArgumentException(name + ": shape holds " + n + " elements, got " + values.length);
    }

    /** The same values as a tensor to write. */
    public NamedTensor named() {
        return new NamedTensor(name, shape, DenseTensor.vector(values));
    }

}
