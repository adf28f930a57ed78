package dev.shears.objective;

import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5Weights;
import dev.shears.train.AdamWConfig;

import java.util.List;

/**
 * {@link TensorAdamW} over a T5's weights, every tensor {@link T5Weights#forEach} lists (a tied LM head is the
 * embedding, updated once): decay on every rank-2 tensor (the embedding, the projections, the relative-position
 * bias tables and an untied head), never on the layer norms.
 */
public final class T5AdamW extends TensorAdamW {
    private final T5Config config;

    public T5AdamW(T5Config config, AdamWConfig adamW) {
        super(v -> T5Weights.zeros(config).forEach(config, v), adamW);
        this.config = config;
    }

    /** One update of every tensor of {@code weights} from {@code grads · gradScale}, zeroing the gradients ({@link TensorAdamW#update}). */
    public void update(T5Weights weights, T5Weights grads, double lr, float gradScale) {
        update(tensors(config, weights), tensors(config, grads), lr, gradScale);
    }

    /** Every tensor of {@code w}, in {@link T5Weights#forEach}'s order. */
    static List<float[]> tensors(T5Config config, T5Weights w) {
        return tensors(v -> w.forEach(config, v));
    }
}
