package dev.shears.objective;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.FolderWeights;
import dev.shears.format.hf.FolderWeights.Visitor;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import dev.shears.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A {@link Seq2SeqTrainer} checkpoint, laid out as the decoder-only {@link Checkpoint}: a folder
 * {@code checkpoints/step-NNNNNNNN} under the run holding the weights as a loadable Hugging Face folder
 * ({@code model.safetensors} in F32 + {@code config.json}, {@link TrainableEncoderDecoder#write}), the AdamW moments
 * ({@code optimizer.safetensors}: {@code m.NAME}, {@code v.NAME}) and {@code state.json} (format
 * {@code shears-KIND-checkpoint}, step, the batcher's state with the mixture weights, Dynamic-UL2's reference
 * losses). The folder is built under a temporary name and renamed into place when complete
 * ({@link AtomicFiles#writeFolder}); {@link Checkpoint#list} and {@link Checkpoint#latest} find them. Every value is
 * stored exactly (F32 tensors, doubles in JSON round-trip).
 */
public final class Seq2SeqCheckpoint {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Seq2SeqCheckpoint() {
    }

    /** The state.json format of {@code model}'s checkpoints: {@code shears-t5-checkpoint}, {@code shears-openba-checkpoint}. */
    static String format(TrainableEncoderDecoder model) {
        return "shears-" + model.kind() + "-checkpoint";
    }

    /** Writes the trainer's state after its current step under {@code runDir/checkpoints/}, then deletes all but the newest {@code keep}. */
    public static Path save(Path runDir, Seq2SeqTrainer trainer, int keep) {
        TrainableEncoderDecoder model = trainer.trainable();
        TensorAdamW optimizer = trainer.optimizer();
        String format = format(model);
        Path target = runDir.resolve(Checkpoint.FOLDER).resolve(String.format("step-%08d", trainer.steps()));
        ObjectNode state = JSON.createObjectNode().put("format", format).put("step", trainer.steps()).put("optimizerStep", optimizer.step());
        state.set("batcher", trainer.batcher().state());
        double[] references = trainer.referenceLosses();
        for (double r : references) state.withArray("referenceLosses").add(r);
        AtomicFiles.writeFolder(target, true, dir -> {
            model.write(dir);
            List<TensorData> moments = new ArrayList<>();
            optimizer.forEachMoment((name, shape, values) -> moments.add(new TensorData(name, shape, values)));
            Safetensors.write(dir.resolve(Checkpoint.OPTIMIZER), moments, DType.F32, Map.of("format", format));
            Files.writeString(dir.resolve(Checkpoint.STATE), state.toPrettyString() + "\n");
        });
        List<Path> all = Checkpoint.list(runDir);
        for (int i = 0; i < all.size() - keep; i++) AtomicFiles.deleteTreeQuietly(all.get(i));
        return target;
    }

    /** Puts a checkpoint written by {@link #save} back into {@code trainer}: weights, moments, step, batcher state, references. */
    public static void restore(Path dir, Seq2SeqTrainer trainer) {
        Path stateFile = dir.resolve(Checkpoint.STATE);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(stateFile));
        } catch (IOException e) {
            throw new ShearsException(stateFile + ": unreadable checkpoint state (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        TrainableEncoderDecoder model = trainer.trainable();
        if (state == null || !format(model).equals(state.path("format").asText())) {
            throw new ShearsException(stateFile + ": not a " + model.kind() + " training checkpoint");
        }
        model.read(dir);
        Path optimizerFile = dir.resolve(Checkpoint.OPTIMIZER);
        try (Safetensors.File file = Safetensors.open(optimizerFile)) {
            trainer.optimizer().forEachMoment((name, shape, values) -> {
                if (!file.entries().containsKey(name)) throw new ShearsException(optimizerFile + ": missing optimizer tensor " + name);
                float[] saved = file.read(name).values();
                if (saved.length != values.length) throw new ShearsException(optimizerFile + ": optimizer tensor " + name + " has " + saved.length + " values, expected " + values.length);
                System.arraycopy(saved, 0, values, 0, values.length);
            });
        }
        trainer.optimizer().restoreStep(state.path("optimizerStep").asLong());
        trainer.batcher().restore(state.path("batcher"), stateFile.toString());
        double[] references = new double[state.path("referenceLosses").size()];
        for (int d = 0; d < references.length; d++) references[d] = state.path("referenceLosses").get(d).asDouble();
        trainer.restore(state.path("step").asLong(), references);
    }

    /** Copies every tensor {@code from} lists into {@code model}'s weights, both in {@link TrainableEncoderDecoder#forEachWeight}'s order. */
    static void copy(Consumer<Visitor> from, TrainableEncoderDecoder model) {
        FolderWeights.copy(from::accept, model::forEachWeight);
    }

    /** The config.json of folder {@code dir}, as a tree; an unreadable one is a one-line error. */
    static ObjectNode configJson(Path dir) {
        Path file = dir.resolve("config.json");
        try {
            return (ObjectNode) new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException | ClassCastException e) {
            throw new ShearsException(file + ": unreadable (" + String.valueOf(e.getMessage()).lines().findFirst().orElse("") + ")");
        }
    }
}
