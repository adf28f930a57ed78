package dev.shears.model;

/**
 * Keys and values of the positions seen so far, per layer, for incremental generation.
 * Keys are stored after RoPE.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int capacity;
    private int length;

    /** @param capacity the most positions the cache holds */
    public KvCache(ModelConfig config, int capacity) {
        this.capacity = capacity;
        keys = new float[config.numLayers()][];
        values = new float[config.numLayers()][];
        for (int l = 0; l < config.numLayers(); l++) {
            int width = config.layer(l).numKvHeads() * config.headDim();
            keys[l] = new float[capacity * width];
            values[l] = new float[capacity * width];
        }
    }

    /** Positions already cached: the position of the next token. */
    public int length() {
        return length;
    }

    public int capacity() {
        return capacity;
    }

    /** [capacity, numKvHeads*headDim] of layer l */
    float[] keys(int layer) {
        return keys[layer];
    }

    /** [capacity, numKvHeads*headDim] of layer l */
    float[] values(int layer) {
        return values[layer];
    }

    void advance(int count) {
        length += count;
    }

    /** Forgets every position from {@code length} on, keeping the prefix before it (to score several continuations of it). */
    public void truncate(int length) {
        if (length < 0 || length > this.length) throw new IllegalArgumentException("cannot truncate " + this.length + " cached positions to " + length);
        this.length = length;
    }

    /** Forgets everything (positions start again at 0). */
    public void clear() {
        length = 0;
    }
}
