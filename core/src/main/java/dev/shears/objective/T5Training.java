package dev.shears.objective;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.io.DType;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.T5;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Pass;
import dev.shears.seq2seq.T5Weights;

import java.nio.file.Path;

/**
 * A T5 as {@link Seq2SeqTrainer} trains it: {@link T5#forward} with the encoder padding masked (the batcher's
 * input lengths), {@link T5#loss} on the targets with the batcher's ignore label turned into
 * {@link T5#IGNORE_LABEL}, {@link T5#backward} into a {@link T5Weights#zeros} gradient buffer; tensors in
 * {@link T5Weights#forEach}'s order (a tied LM head is the embedding, listed once); folders by {@link T5HfFolder}.
 */
public final class T5Training implements TrainableEncoderDecoder {
    private final T5Model model;
    private final ObjectNode configJson;
    private final T5Weights grads;

    /** @param configJson the config.json {@code model} was read from: its other keys (eos_token_id, n_positions, ...) are written again */
    public T5Training(T5Model model, ObjectNode configJson) {
        this.model = model;
        this.configJson = configJson.deepCopy();
        this.grads = T5Weights.zeros(model.config());
    }

    /** A model made here, with no config.json of its own: the config's keys alone are written. */
    public T5Training(T5Model model) {
        this(model, JsonNodeFactory.instance.objectNode());
    }

    /** The model of a Hugging Face T5 folder, with its config.json. */
    public static T5Training load(Path dir) {
        return new T5Training(T5Model.load(dir), Seq2SeqCheckpoint.configJson(dir));
    }

    @Override
    public T5Model model() {
        return model;
    }

    @Override
    public String kind() {
        return "t5";
    }

    @Override
    public void forEachWeight(Visitor visitor) {
        model.weights().forEach(model.config(), visitor);
    }

    @Override
    public void forEachGradient(Visitor visitor) {
        grads.forEach(model.config(), visitor);
    }

    @Override
    public double accumulate(DenoisingBatcher.Batch batch, float share, EncoderDecoderMasks masks, EncoderDecoderMasks dMasks) {
        T5Pass pass = forward(batch, masks);
        float[] dLogits = new float[pass.logits().length];
        double loss = T5.loss(pass, Seq2SeqTrainer.labels(batch.targets(), T5.IGNORE_LABEL), dLogits);
        if (share != 1f) for (int j = 0; j < dLogits.length; j++) dLogits[j] *= share;
        T5.backward(model, pass, dLogits, grads, dMasks);
        return loss;
    }

    @Override
    public double loss(DenoisingBatcher.Batch batch, EncoderDecoderMasks masks) {
        return T5.loss(forward(batch, masks), Seq2SeqTrainer.labels(batch.targets(), T5.IGNORE_LABEL), new float[0]);
    }

    @Override
    public void write(Path dir) {
        T5HfFolder.write(model, T5HfFolder.configJson(model.config(), configJson, DType.F32), dir, DType.F32);
    }

    @Override
    public void read(Path dir) {
        T5Config c = model.config();
        T5Config saved = T5Config.read(dir.resolve("config.json"));
        if (!saved.equals(c)) throw new ShearsException(dir + ": the checkpoint's model is " + saved.describe() + ", this run's " + c.describe());
        Seq2SeqCheckpoint.copy(v -> T5Weights.load(dir, c).forEach(c, v), this);
    }

    private T5Pass forward(DenoisingBatcher.Batch batch, EncoderDecoderMasks masks) {
        int b = batch.inputLengths().length;
        int srcLen = batch.inputs().length / b, tgtLen = batch.targets().length / b;
        return T5.forward(model, masks, batch.inputs(), Seq2SeqTrainer.attentionMask(batch), Seq2SeqTrainer.labels(batch.targets(), T5.IGNORE_LABEL), b, srcLen, tgtLen);
    }
}
