package dev.shears.objective;

import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.EncoderDecoderMasks;

import java.nio.file.Path;

/**
 * What {@link Seq2SeqTrainer} and {@link Seq2SeqCheckpoint} need of an encoder–decoder, so that one trainer and one
 * checkpoint layout serve T5 ({@link T5Training}) and OpenBA ({@link OpenBaTraining}): the forward, loss and
 * backward of a denoising batch into a gradient buffer held alongside the weights, the weights and gradients
 * as named tensors in one fixed order, and the Hugging Face folder the weights are written to and read from.
 */
public interface TrainableEncoderDecoder {
    /** The architecture's name in checkpoint formats and messages: "t5", "openba". */
    String kind();

    /** The model being trained (its weights change in place). */
    EncoderDecoder model();

    /** Every weight tensor with its published name and shape; the order every list of tensors here follows. */
    void forEachWeight(Visitor visitor);

    /** The gradient of every weight, in {@link #forEachWeight}'s order. */
    void forEachGradient(Visitor visitor);

    /**
     * Forward, loss and backward of {@code batch} (targets padded with {@link dev.shears.kernel.CrossEntropy#IGNORE}):
     * the gradients accumulate {@code share} × d loss / d weights.
     *
     * @return the mean token loss of the batch
     */
    default double accumulate(DenoisingBatcher.Batch batch, float share) {
        EncoderDecoderConfig c = model().config();
        return accumulate(batch, share, EncoderDecoderMasks.ones(c), EncoderDecoderMasks.filled(c, 0f));
    }

    /**
     * {@link #accumulate(DenoisingBatcher.Batch, float)} under learned gates: the forward runs under {@code masks}, and
     * {@code dMasks} (same shapes) accumulates {@code share} × d loss / d gate as the weights' gradients accumulate.
     *
     * @return the mean token loss of the batch
     */
    double accumulate(DenoisingBatcher.Batch batch, float share, EncoderDecoderMasks masks, EncoderDecoderMasks dMasks);

    /** The mean token loss of {@code batch}, no gradient. */
    default double loss(DenoisingBatcher.Batch batch) {
        return loss(batch, EncoderDecoderMasks.ones(model().config()));
    }

    /** The mean token loss of {@code batch} under gates {@code masks}, no gradient. */
    double loss(DenoisingBatcher.Batch batch, EncoderDecoderMasks masks);

    /**
     * Called by {@link Seq2SeqTrainer} after the optimizer step {@code step} (0-based) has updated the weights, before the
     * step is counted: where something besides the weights learns per step (learned gates: {@code recipe.ShearingTrainable}).
     */
    default void stepDone(long step) {
    }

    /** Writes the weights in F32 as a loadable Hugging Face folder ({@code config.json} + {@code model.safetensors}) into {@code dir}. */
    void write(Path dir);

    /** Copies the weights of a folder {@link #write} made into this model; a folder of another shape is a one-line error. */
    void read(Path dir);
}
