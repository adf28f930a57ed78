package dev.shears.model;

import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.Encoding;
import dev.shears.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * All weights of a model, addressed by {@link TensorRole} and layer. Each tensor has the shape
 * {@code role.shape(config, layer)} (a vector is one row) and is either fp32 on the heap, which
 * training reads and writes as a flat row-major {@code float[]} ({@link #get}), or mapped from the
 * model's files in their encoding ({@link #tensor}), which the forward and backward kernels read in
 * place. A tied LM head is the embedding itself, so its gradient and its slicing are shared
 * automatically. Mapped weights belong to files this object closes ({@link #close}).
 */
public final class ModelWeights implements AutoCloseable {
    private final ModelConfig config;
    private final Tensor[] global;
    private final Tensor[][] layers;
    private final List<AutoCloseable> files = new ArrayList<>();

    private ModelWeights(ModelConfig config) {
        this.config = config;
        this.global = new Tensor[TensorRole.values().length];
        this.layers = new Tensor[config.numLayers()][TensorRole.values().length];
    }

    /** Every present tensor allocated on the heap and zero. */
    public static ModelWeights zeros(ModelConfig config) {
        ModelWeights w = new ModelWeights(config);
        w.forEachSlot((role, layer) -> {
            int rows = role.rows(config, layer), cols = role.cols(config, layer);
            w.slot(role, layer, new DenseTensor(new float[Math.toIntExact((long) rows * cols)], rows, cols));
        });
        return w;
    }

    /**
     * Weights read from files: {@code tensors} supplies each present tensor (it must have the table's
     * shape); {@code files} are the mappings they live in, closed with these weights.
     */
    public static ModelWeights of(ModelConfig config, TensorSource tensors, List<? extends AutoCloseable> files) {
        ModelWeights w = new ModelWeights(config);
        w.files.addAll(files);
        w.forEachSlot((role, layer) -> w.put(role, layer, tensors.tensor(role, layer)));
        return w;
    }

    public ModelConfig config() {
        return config;
    }

    /** A model-level tensor (embedding, final norm, LM head) on the heap, as a flat array. */
    public float[] get(TensorRole role) {
        if (role.perLayer) throw new IllegalArgumentException(role + " is per layer");
        return dense(tensor(role), role, -1);
    }

    /** A tensor on the heap, as a flat row-major array that training reads and writes. */
    public float[] get(TensorRole role, int layer) {
        if (!role.perLayer) return get(role);
        return dense(tensor(role, layer), role, layer);
    }

    /** A model-level tensor, wherever it lives. */
    public Tensor tensor(TensorRole role) {
        if (role.perLayer) throw new IllegalArgumentException(role + " is per layer");
        if (role == TensorRole.LM_HEAD && config.tiedEmbeddings()) return require(global[TensorRole.EMBEDDING.ordinal()], role, -1);
        return require(global[role.ordinal()], role, -1);
    }

    /** A tensor, wherever it lives. */
    public Tensor tensor(TensorRole role, int layer) {
        if (!role.perLayer) return tensor(role);
        return require(layers[layer][role.ordinal()], role, layer);
    }

    /** Replaces a heap tensor's values; the length must match the table's shape. */
    public void set(TensorRole role, int layer, float[] values) {
        float[] target = get(role, layer);
        if (values.length != target.length) {
            throw new IllegalArgumentException(where(role, layer) + " has " + target.length + " elements, got " + values.length);
        }
        System.arraycopy(values, 0, target, 0, values.length);
    }

    /** Replaces a tensor with another of the same shape (read from a file, say). */
    public void put(TensorRole role, int layer, Tensor tensor) {
        if (tensor.rows() != role.rows(config, layer) || tensor.cols() != role.cols(config, layer)) {
            throw new IllegalArgumentException(where(role, layer) + " is " + Arrays.toString(role.shape(config, layer)) + ", got "
                    + tensor.rows() + " × " + tensor.cols());
        }
        slot(role, layer, tensor);
    }

    /** Whether every tensor is on the heap (trainable, readable with {@link #get}). */
    public boolean isDense() {
        boolean[] dense = {true};
        forEachTensor((role, layer, t) -> dense[0] &= t instanceof DenseTensor);
        return dense[0];
    }

    /** The encoding most of the weights are in (what a file's "dtype" means; GGUF files may keep some matrices wider). */
    public Encoding encoding() {
        long[] elements = new long[Encoding.values().length];
        forEachTensor((role, layer, t) -> elements[t.encoding().ordinal()] += t.size());
        int best = 0;
        for (int e = 1; e < elements.length; e++) if (elements[e] > elements[best]) best = e;
        return Encoding.values()[best];
    }

    /** Bytes of all weights where they live (in the file's encoding for mapped tensors). */
    public long bytes() {
        long[] total = {0};
        forEachTensor((role, layer, t) -> total[0] += t.bytes());
        return total[0];
    }

    /** Visits every stored tensor once (a tied LM head is not visited separately); layer is -1 for model-level tensors. */
    public void forEachTensor(TensorConsumer visitor) {
        forEachSlot((role, layer) -> visitor.accept(role, layer, tensor(role, layer)));
    }

    /** Visits every stored tensor's heap values (all must be on the heap); layer is -1 for model-level tensors. */
    public void forEach(TensorVisitor visitor) {
        forEachSlot((role, layer) -> visitor.visit(role, layer, get(role, layer)));
    }

    /** A deep copy on the heap: mapped tensors are widened to fp32 (what a run trains). */
    public ModelWeights copy() {
        ModelWeights copy = new ModelWeights(config);
        forEachTensor((role, layer, t) -> copy.slot(role, layer, new DenseTensor(t.toArray(), t.rows(), t.cols())));
        return copy;
    }

    /**
     * Lets the operating system drop one layer's mapped pages after a streamed pass has used them
     * (those of a pruned view are its parent's); heap tensors stay.
     */
    public void release(int layer) {
        for (Tensor t : layers[layer]) {
            if (t != null) t.release();
        }
    }

    /** Closes the files mapped tensors live in; the mapped tensors must not be read afterwards. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (AutoCloseable f : files) {
            try {
                f.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("cannot close a model file: " + e.getMessage(), e);
            }
        }
        files.clear();
        if (failure != null) throw failure;
    }

    /** Receives one tensor's heap values. */
    @FunctionalInterface
    public interface TensorVisitor {
        void visit(TensorRole role, int layer, float[] values);
    }

    /** Receives one tensor. */
    @FunctionalInterface
    public interface TensorConsumer {
        void accept(TensorRole role, int layer, Tensor tensor);
    }

    /** Supplies the tensor of one role and layer (layer -1 for model-level tensors). */
    @FunctionalInterface
    public interface TensorSource {
        Tensor tensor(TensorRole role, int layer);
    }

    private interface Slot {
        void visit(TensorRole role, int layer);
    }

    private void forEachSlot(Slot slot) {
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(config)) continue;
            if (role.perLayer) {
                for (int l = 0; l < config.numLayers(); l++) {
                    if (role.isPresent(config, l)) slot.visit(role, l);
                }
            } else {
                slot.visit(role, -1);
            }
        }
    }

    private void slot(TensorRole role, int layer, Tensor t) {
        if (role.perLayer) layers[layer][role.ordinal()] = t;
        else global[role.ordinal()] = t;
    }

    private static float[] dense(Tensor t, TensorRole role, int layer) {
        if (t instanceof DenseTensor d) return d.values();
        throw new IllegalStateException(where(role, layer) + " is not an array on the heap (it is read through a "
                + t.getClass().getSimpleName() + "); widen the weights first (Model.dense)");
    }

    private static String where(TensorRole role, int layer) {
        return role + (layer >= 0 ? " of layer " + layer : "");
    }

    private Tensor require(Tensor tensor, TensorRole role, int layer) {
        if (tensor == null) throw new IllegalStateException("model has no " + where(role, layer));
        return tensor;
    }
}
