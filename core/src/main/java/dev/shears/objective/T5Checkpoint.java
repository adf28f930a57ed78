package dev.shears.objective;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import dev.shears.seq2seq.T5Config;
import dev.shears.seq2seq.T5HfFolder;
import dev.shears.seq2seq.T5Model;
import dev.shears.seq2seq.T5Weights;
import dev.shears.train.Checkpoint;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A {@link T5Trainer} checkpoint, laid out as the decoder-only {@link Checkpoint}: a folder
 * {@code checkpoints/step-NNNNNNNN} under the run holding the weights as a loadable Hugging Face T5 folder
 * ({@code model.safetensors} in F32 + {@code config.json}, {@link T5HfFolder}), the AdamW moments
 * ({@code optimizer.safetensors}: {@code m.NAME}, {@code v.NAME}) and {@code state.json} (step, the batcher's
 * state with the mixture weights, Dynamic-UL2's reference losses). The folder is built under a temporary
 * name and renamed into place when complete ({@link AtomicFiles#writeFolder}); {@link Checkpoint#list} and
 * {@link Checkpoint#latest} find them. Every value is stored exactly (F32 tensors, doubles in JSON round-trip).
 */
public final class T5Checkpoint {
    static final String FORMAT = "shears-t5-checkpoint";
    private static final ObjectMapper JSON = new ObjectMapper();

    private T5Checkpoint() {
    }

    /** Writes the trainer's state after its current step under {@code runDir/checkpoints/}, then deletes all but the newest {@code keep}. */
    public static Path save(Path runDir, T5Trainer trainer, int keep) {
        T5Model model = trainer.model();
        T5Config c = model.config();
        T5AdamW optimizer = trainer.optimizer();
        Path target = runDir.resolve(Checkpoint.FOLDER).resolve(String.format("step-%08d", trainer.steps()));
        ObjectNode state = JSON.createObjectNode().put("format", FORMAT).put("step", trainer.steps()).put("optimizerStep", optimizer.step());
        state.set("batcher", trainer.batcher().state());
        double[] references = trainer.referenceLosses();
        for (double r : references) state.withArray("referenceLosses").add(r);
        AtomicFiles.writeFolder(target, true, dir -> {
            T5HfFolder.write(model, T5HfFolder.configJson(c, DType.F32), dir, DType.F32);
            List<TensorData> moments = new ArrayList<>();
            optimizer.firstMoment().forEach(c, (name, shape, values) -> moments.add(new TensorData("m." + name, shape, values)));
            optimizer.secondMoment().forEach(c, (name, shape, values) -> moments.add(new TensorData("v." + name, shape, values)));
            Safetensors.write(dir.resolve(Checkpoint.OPTIMIZER), moments, DType.F32, Map.of("format", FORMAT));
            Files.writeString(dir.resolve(Checkpoint.STATE), state.toPrettyString() + "\n");
        });
        List<Path> all = Checkpoint.list(runDir);
        for (int i = 0; i < all.size() - keep; i++) AtomicFiles.deleteTreeQuietly(all.get(i));
        return target;
    }

    /** Puts a checkpoint written by {@link #save} back into {@code trainer}: weights, moments, step, batcher state, references. */
    public static void restore(Path dir, T5Trainer trainer) {
        Path stateFile = dir.resolve(Checkpoint.STATE);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(stateFile));
        } catch (IOException e) {
            throw new ShearsException(stateFile + ": unreadable checkpoint state (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (state == null || !FORMAT.equals(state.path("format").asText())) throw new ShearsException(stateFile + ": not a T5 training checkpoint");
        T5Model model = trainer.model();
        T5Config c = model.config();
        T5Config saved = T5Config.read(dir.resolve("config.json"));
        if (!saved.equals(c)) throw new ShearsException(dir + ": the checkpoint's model is " + saved.describe() + ", this run's " + c.describe());
        copy(c, T5Weights.load(dir, c), model.weights());
        Path optimizerFile = dir.resolve(Checkpoint.OPTIMIZER);
        try (Safetensors.File file = Safetensors.open(optimizerFile)) {
            moments(file, "m.", c, trainer.optimizer().firstMoment(), optimizerFile);
            moments(file, "v.", c, trainer.optimizer().secondMoment(), optimizerFile);
        }
        trainer.optimizer().restoreStep(state.path("optimizerStep").asLong());
        trainer.batcher().restore(state.path("batcher"), stateFile.toString());
        double[] references = new double[state.path("referenceLosses").size()];
        for (int d = 0; d < references.length; d++) references[d] = state.path("referenceLosses").get(d).asDouble();
        trainer.restore(state.path("step").asLong(), references);
    }

    private static void copy(T5Config c, T5Weights from, T5Weights into) {
        List<float[]> source = T5AdamW.tensors(c, from), target = T5AdamW.tensors(c, into);
        for (int t = 0; t < source.size(); t++) System.arraycopy(source.get(t), 0, target.get(t), 0, source.get(t).length);
    }

    private static void moments(Safetensors.File file, String prefix, T5Config c, T5Weights into, Path path) {
        into.forEach(c, (name, shape, values) -> {
            if (!file.entries().containsKey(prefix + name)) throw new ShearsException(path + ": missing optimizer tensor " + prefix + name);
            float[] saved = file.read(prefix + name).values();
            if (saved.length != values.length) throw new ShearsException(path + ": optimizer tensor " + prefix + name + " has " + saved.length + " values, expected " + values.length);
            System.arraycopy(saved, 0, values, 0, values.length);
        });
    }
}
