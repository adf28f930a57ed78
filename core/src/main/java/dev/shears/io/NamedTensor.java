package dev.shears.io;

import dev.shears.tensor.Tensor;

/**
 * A tensor to write under a file's name for it, with the shape the file records (a vector has one
 * dimension); its rows are read one at a time while the file is written.
 *
 * @param name   the name in the file
 * @param shape  dimensions, outermost first
 * @param tensor the values, {@code product(shape)} of them
 */
public record NamedTensor(String name, int[] shape, Tensor tensor) {
    public NamedTensor {
        long n = 1;
        for (int d : shape) n *= d;
        if (n != tensor.size()) throw new IllegalArgumentException(name + ": shape holds " + n + " elements, the tensor " + tensor.size());
    }
}
