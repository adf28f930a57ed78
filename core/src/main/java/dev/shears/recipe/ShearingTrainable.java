package dev.shears.recipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.dist.SingleProcess;
import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.io.AtomicFiles;
import dev.shears.l0.EncoderDecoderShearing;
import dev.shears.objective.DenoisingBatcher;
import dev.shears.objective.Seq2SeqTrainer;
import dev.shears.objective.TrainableEncoderDecoder;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderMasks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * An encoder–decoder that {@link Seq2SeqTrainer} trains together with learned L0 gates (Sheared-LLaMA's shearing on the
 * UL2 mixture): a decorator of the architecture's {@link TrainableEncoderDecoder} that the trainer drives unchanged.
 * Each micro-batch runs under its own gate sample ({@link EncoderDecoderShearing#sample}, seeded by step and micro-batch)
 * and takes its gate gradients to logAlpha in a vector of its own; after the weights' optimizer step ({@link #stepDone})
 * the micro-batches' vectors are added in micro-batch order ({@link OrderedSum#sumDoubles}: over the ranks of a
 * {@link Collective}, each holding its contiguous share of the micro-batches as the trainer gives them, the same bits as
 * one process) and the gates and λ take their step ({@link EncoderDecoderShearing#update}) on every rank alike. Held-out losses are measured under the deterministic gates of the
 * current plan: the model as finalisation would cut it now. A checkpoint's model folder also holds
 * {@value #STATE} (the gates, λ, their optimizers and the step), so a resumed run draws and updates the gates as the
 * uninterrupted one.
 */
public final class ShearingTrainable implements TrainableEncoderDecoder {
    /** The gate state beside a checkpoint's weights. */
    public static final String STATE = "gate-state.json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainableEncoderDecoder inner;
    private final EncoderDecoderShearing shearing;
    private final Collective collective;
    private final int microBatches;
    /** This rank's micro-batches' dL/dlogAlpha in the current step, in order; reused. */
    private final List<double[]> perMicro = new ArrayList<>();
    private long step;
    private int micro;
    private Optional<EncoderDecoderShearing.Update> last = Optional.empty();

    /**
     * @param microBatches the micro-batches of a step (the trainer's), of which this rank of {@code collective} runs its
     *                     contiguous share ({@link OrderedSum#first})
     */
    public ShearingTrainable(TrainableEncoderDecoder inner, EncoderDecoderShearing shearing, int microBatches, Collective collective) {
        this.inner = inner;
        this.shearing = shearing;
        this.microBatches = microBatches;
        this.collective = collective;
    }

    /** One process. */
    public ShearingTrainable(TrainableEncoderDecoder inner, EncoderDecoderShearing shearing, int microBatches) {
        this(inner, shearing, microBatches, new SingleProcess());
    }

    /** The gates being learned. */
    public EncoderDecoderShearing shearing() {
        return shearing;
    }

    /** The architecture's trainable, whose folder format the final model is written in. */
    public TrainableEncoderDecoder inner() {
        return inner;
    }

    /** What the last {@link #stepDone} saw before it moved the gates (empty before the first step of this process). */
    public Optional<EncoderDecoderShearing.Update> lastUpdate() {
        return last;
    }

    @Override
    public String kind() {
        return inner.kind() + "-shear";
    }

    @Override
    public EncoderDecoder model() {
        return inner.model();
    }

    @Override
    public void forEachWeight(Visitor visitor) {
        inner.forEachWeight(visitor);
    }

    @Override
    public void forEachGradient(Visitor visitor) {
        inner.forEachGradient(visitor);
    }

    /** This rank's next micro-batch of the current step under its sampled gates; its gate gradients go on to logAlpha. */
    @Override
    public double accumulate(DenoisingBatcher.Batch batch, float share) {
        int index = OrderedSum.first(microBatches, collective.rank(), collective.size()) + micro;
        EncoderDecoderMasks masks = shearing.sample(step, index);
        double loss = inner.accumulate(batch, share, masks, shearing.gradients());
        if (perMicro.size() <= micro) perMicro.add(new double[shearing.gates().size()]);
        double[] mine = perMicro.get(micro++);
        Arrays.fill(mine, 0);
        shearing.backwardInto(mine);
        return loss;
    }

    @Override
    public double accumulate(DenoisingBatcher.Batch batch, float share, EncoderDecoderMasks masks, EncoderDecoderMasks dMasks) {
        return inner.accumulate(batch, share, masks, dMasks);
    }

    /** The loss under the deterministic gates of the current plan. */
    @Override
    public double loss(DenoisingBatcher.Batch batch) {
        return inner.loss(batch, shearing.deterministic(shearing.plan()));
    }

    @Override
    public double loss(DenoisingBatcher.Batch batch, EncoderDecoderMasks masks) {
        return inner.loss(batch, masks);
    }

    @Override
    public void stepDone(long done) {
        if (done != step) throw new IllegalStateException("the gates are at step " + step + ", the trainer finished step " + done);
        OrderedSum.sumDoubles(collective, microBatches, perMicro.subList(0, micro), shearing.lossGradient());
        last = Optional.of(shearing.update(step));
        step++;
        micro = 0;
    }

    @Override
    public void write(Path dir) {
        inner.write(dir);
        ObjectNode state = shearing.state(JSON);
        state.put("step", step);
        AtomicFiles.writeString(dir.resolve(STATE), state.toPrettyString() + "\n");
    }

    @Override
    public void read(Path dir) {
        inner.read(dir);
        Path file = dir.resolve(STATE);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ShearsException(file + ": unreadable gate state (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
        }
        shearing.restore(state, file);
        step = state.path("step").asLong();
        micro = 0;
    }
}
