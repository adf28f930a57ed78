package dev.shears.objective;

import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.seq2seq.EncoderDecoder;

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
    double accumulate(DenoisingBatcher.Batch batch, float share);

    /** The mean token loss of {@code batch}, no gradient. */
    double loss(DenoisingBatcher.Batch batch);

    /** Writes the weights in F32 as a loadable Hugging Face folder ({@code config.json} + {@code model.safetensors}) into {@code dir}. */
    void write(Path dir);

    /** Copies the weights of a folder {@link #write} made into this model; a folder of another shape is a one-line error. */
    void read(Path dir);
}
