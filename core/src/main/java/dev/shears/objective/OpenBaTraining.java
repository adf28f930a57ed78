package dev.shears.objective;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.io.DType;
import dev.shears.seq2seq.EncoderDecoderMasks;
import dev.shears.seq2seq.OpenBa;
import dev.shears.seq2seq.OpenBaConfig;
import dev.shears.seq2seq.OpenBaHfFolder;
import dev.shears.seq2seq.OpenBaModel;
import dev.shears.seq2seq.OpenBaPass;
import dev.shears.seq2seq.OpenBaWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An OpenBA as {@link Seq2SeqTrainer} trains it: {@link OpenBa#forward} with the encoder padding masked (the
 * batcher's input lengths), {@link OpenBa#loss} on the targets with
 * the batcher's ignore label turned into {@link OpenBa#IGNORE_LABEL}, {@link OpenBa#backward} into an
 * {@link OpenBaWeights#zeros} gradient buffer; tensors in {@link OpenBaWeights#forEach}'s order (a tied head is the
 * embedding, listed once; switched-off biases are not listed, so never updated); folders by {@link OpenBaHfFolder}
 * with the config.json the model was read with.
 *
 * <p>Weight decay ({@link TensorAdamW}): every rank-2 tensor (the shared embedding, the qkv / q / kv / o
 * projections, fc_in, fc_out, an untied head), never a rank-1 one (the LayerNorm weights and biases, the attention
 * and LM-head biases). OpenBA's published training is a Megatron-LM fork (OpenNLG/OpenBA
 * {@code training/megatron}): its {@code setup_model_and_optimizer} builds the optimizer with
 * {@code get_megatron_optimizer(model, no_wd_decay_cond, ...)}, whose parameter groups in that Megatron-LM
 * generation leave every parameter named {@code *.bias} or of one dimension (the LayerNorms) without weight decay
 * when no condition is given; this rank rule is that split (the fork's {@code optimizer/__init__.py} itself is not in
 * the index searched, so the default is Megatron-LM's, not read from OpenBA's copy).
 */
public final class OpenBaTraining implements TrainableEncoderDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OpenBaModel model;
    private final ObjectNode configJson;
    private final OpenBaWeights grads;

    /** @param configJson the config.json {@code model} was read from, written again with every checkpoint */
    public OpenBaTraining(OpenBaModel model, ObjectNode configJson) {
        this.model = model;
        this.configJson = configJson.deepCopy();
        this.grads = OpenBaWeights.zeros(model.config());
    }

    /** The model of a Hugging Face OpenBA folder, with its config.json. */
    public static OpenBaTraining load(Path dir) {
        return new OpenBaTraining(OpenBaModel.load(dir), Seq2SeqCheckpoint.configJson(dir));
    }

    @Override
    public OpenBaModel model() {
        return model;
    }

    @Override
    public String kind() {
        return "openba";
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
        int[] labels = Seq2SeqTrainer.labels(batch.targets(), OpenBa.IGNORE_LABEL);
        OpenBaPass pass = forward(batch, labels, masks);
        float[] dLogits = new float[pass.logits().length];
        double loss = OpenBa.loss(pass, labels, dLogits);
        if (share != 1f) for (int j = 0; j < dLogits.length; j++) dLogits[j] *= share;
        OpenBa.backward(model, pass, dLogits, grads, dMasks);
        return loss;
    }

    @Override
    public double loss(DenoisingBatcher.Batch batch, EncoderDecoderMasks masks) {
        int[] labels = Seq2SeqTrainer.labels(batch.targets(), OpenBa.IGNORE_LABEL);
        return OpenBa.loss(forward(batch, labels, masks), labels, new float[0]);
    }

    @Override
    public void write(Path dir) {
        OpenBaHfFolder.write(model, OpenBaHfFolder.configJson(model.config(), configJson, DType.F32), dir, DType.F32);
    }

    @Override
    public void read(Path dir) {
        OpenBaConfig c = model.config();
        OpenBaConfig saved = OpenBaConfig.read(dir.resolve("config.json"));
        if (!saved.equals(c)) throw new ShearsException(dir + ": the checkpoint's model is " + saved.describe() + ", this run's " + c.describe());
        Seq2SeqCheckpoint.copy(v -> OpenBaWeights.load(dir, c).forEach(c, v), this);
    }

    private OpenBaPass forward(DenoisingBatcher.Batch batch, int[] labels, EncoderDecoderMasks masks) {
        int b = batch.inputLengths().length;
        return OpenBa.forward(model, masks, batch.inputs(), Seq2SeqTrainer.attentionMask(batch), labels, b, batch.inputs().length / b, labels.length / b);
    }
}
