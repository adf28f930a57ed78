package dev.shears.train;

import dev.shears.model.MaskSet;

/**
 * The gates an optimizer step trains under (learned masks), drawn afresh for every micro-batch as the
 * reference draws them for every forward pass (LLM-Shearing's {@code L0Module.forward} runs inside each
 * forward). {@link Trainer#step} asks for each micro-batch's gates, lets the model's backward accumulate
 * dL/dgate into {@link #gradients}, and then calls {@link #backwardDone} so the gate side can take that
 * micro-batch's gradient back to its parameters under the sample that produced it.
 */
public interface MicroBatchGates {
    /** No gates: every mask is 1 and nothing is accumulated. */
    MicroBatchGates NONE = new MicroBatchGates() {
        @Override
        public MaskSet sample(int micro) {
            return MaskSet.NONE;
        }

        @Override
        public MaskSet gradients() {
            return MaskSet.NONE;
        }

        @Override
        public void backwardDone() {
        }

        @Override
        public double[] accumulated() {
            return new double[0];
        }
    };

    /** The gates of micro-batch {@code micro} of this step, with {@link #gradients} zeroed. */
    MaskSet sample(int micro);

    /** Where the model's backward accumulates dL/dgate for the last sample. */
    MaskSet gradients();

    /** The last sample's backward is complete. */
    void backwardDone();

    /**
     * The gradient of the gate parameters that {@link #backwardDone} adds each micro-batch's share to (one
     * {@code +=} per element per micro-batch), zeroed when the step began. Under MPI the trainer zeroes it
     * before each micro-batch, keeps each one's share apart, and puts their sum in micro-batch order back.
     */
    double[] accumulated();
}
