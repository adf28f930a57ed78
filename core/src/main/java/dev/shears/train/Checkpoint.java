package dev.shears.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.AtomicFiles;
import dev.shears.io.CrashPoints;
import dev.shears.io.DType;
import dev.shears.io.TensorData;
import dev.shears.io.TensorNames;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * A training checkpoint: a folder {@code step-NNNNNNNN} under a run's {@code checkpoints/} holding the
 * weights as a loadable Hugging Face model ({@code model.safetensors} + {@code config.json}), the
 * AdamW moments ({@code optimizer.safetensors}) and {@code state.json} (step, domain weights, the
 * data cursor, the size and CRC-32 of every file). It is written into a temporary sibling folder and
 * renamed into place, so a crash never leaves a half checkpoint under a real name; loading verifies
 * every file. Batches are a function of (seed, step, domain weights, data cursor), so with the cursor
 * ({@code BatchSampler.state()}) a resumed run reads the same sequences.
 *
 * @param dir           the checkpoint folder
 * @param step          optimizer steps completed
 * @param domainWeights sampling weights in force after {@code step} steps
 * @param data          the sampler's data cursor after {@code step} steps; empty in checkpoints written
 *                      before cursors were recorded (their runs sampled random offsets)
 * @param extra         recipe-specific state (e.g. the gates of a shear run), may be empty
 */
public record Checkpoint(Path dir, long step, double[] domainWeights, ObjectNode data, ObjectNode extra) {
    public static final String FOLDER = "checkpoints";
    public static final String STATE = "state.json";
    public static final String OPTIMIZER = "optimizer.safetensors";
    static final String FORMAT = "shears-checkpoint";
    static final int VERSION = 1;
    private static final Pattern NAME = Pattern.compile("step-(\\d{8,})");
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Writes a checkpoint of {@code model} and {@code optimizer} after {@code step} steps into
     * {@code runDir/checkpoints/}, then deletes all but the newest {@code keep}.
     */
    public static Path save(Path runDir, Model model, AdamW optimizer, long step, double[] domainWeights, ObjectNode data, ObjectNode extra, int keep) {
        Path parent = runDir.resolve(FOLDER);
        Path target = parent.resolve(String.format("step-%08d", step));
        Path tmp;
        try {
            Files.createDirectories(parent);
            tmp = Files.createTempDirectory(parent, ".step-" + step + ".tmp-");
            AtomicFiles.readableByAll(tmp);
        } catch (IOException e) {
            throw new ShearsException(parent + ": cannot create a checkpoint folder: " + e.getMessage(), e);
        }
        try {
            CrashPoints.reach("checkpoint folder created: " + tmp);
            HfModel.write(model, tmp);
            Safetensors.write(tmp.resolve(OPTIMIZER), momentTensors(optimizer), DType.F32, Map.of("format", FORMAT));
            ObjectNode state = JSON.createObjectNode();
            state.put("format", FORMAT).put("version", VERSION).put("step", step).put("optimizerStep", optimizer.step());
            ArrayNode weights = state.putArray("domainWeights");
            for (double w : domainWeights) weights.add(w);
            state.set("data", data == null ? JSON.createObjectNode() : data);
            state.set("extra", extra == null ? JSON.createObjectNode() : extra);
            ObjectNode files = state.putObject("files");
            try (Stream<Path> list = Files.list(tmp)) {
                for (Path f : list.sorted().toList()) {
                    files.putObject(f.getFileName().toString()).put("bytes", Files.size(f)).put("crc32", crc32(f));
                }
            }
            AtomicFiles.writeString(tmp.resolve(STATE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state) + "\n");
            AtomicFiles.deleteTree(target);
            AtomicFiles.move(tmp, target);
            CrashPoints.reach("checkpoint in place, older ones not yet deleted: " + target);
        } catch (IOException e) {
            AtomicFiles.deleteTreeQuietly(tmp);
            throw new ShearsException(target + ": cannot write the checkpoint: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            AtomicFiles.deleteTreeQuietly(tmp);
            throw e;
        }
        List<Path> all = list(runDir);
        for (int i = 0; i < all.size() - keep; i++) {
            AtomicFiles.deleteTreeQuietly(all.get(i));
            CrashPoints.reach("older checkpoint deleted: " + all.get(i));
        }
        return target;
    }

    /** Complete checkpoints of a run, oldest first (temporary folders of interrupted writes are ignored). */
    public static List<Path> list(Path runDir) {
        Path parent = runDir.resolve(FOLDER);
        if (!Files.isDirectory(parent)) return List.of();
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(p -> NAME.matcher(p.getFileName().toString()).matches() && Files.isRegularFile(p.resolve(STATE)))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new ShearsException(parent + ": cannot list checkpoints: " + e.getMessage(), e);
        }
    }

    /** The newest complete checkpoint of a run, if any. */
    public static Optional<Path> latest(Path runDir) {
        List<Path> all = list(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /**
     * Verifies a checkpoint and restores it into {@code model} (whose config must match) and
     * {@code optimizer}; returns its state.
     */
    public static Checkpoint restore(Path dir, Model model, AdamW optimizer) {
        JsonNode state = readState(dir);
        verifyFiles(dir, state);
        Model saved = HfModel.read(dir);
        ModelConfig expected = model.config();
        if (!saved.config().sameTensorShapes(expected)) {
            throw new ShearsException(dir + ": the checkpoint's model shape differs from this run's model ("
                    + saved.config().describe() + " vs " + expected.describe() + ")");
        }
        saved.weights().forEach((role, layer, values) -> System.arraycopy(values, 0, model.weights().get(role, layer), 0, values.length));
        Path opt = dir.resolve(OPTIMIZER);
        try (Safetensors.File file = Safetensors.open(opt)) {
            restoreMoments(file, "m.", optimizer.firstMoment(), opt);
            restoreMoments(file, "v.", optimizer.secondMoment(), opt);
        }
        optimizer.restoreStep(state.path("optimizerStep").asLong(state.path("step").asLong()));
        double[] weights = new double[state.path("domainWeights").size()];
        for (int i = 0; i < weights.length; i++) weights[i] = state.path("domainWeights").get(i).asDouble();
        JsonNode data = state.path("data"), extra = state.path("extra");
        return new Checkpoint(dir, state.path("step").asLong(), weights, data.isObject() ? (ObjectNode) data : JSON.createObjectNode(),
                extra.isObject() ? (ObjectNode) extra : JSON.createObjectNode());
    }

    private static JsonNode readState(Path dir) {
        Path file = dir.resolve(STATE);
        JsonNode state;
        try {
            state = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new ShearsException(file + ": unreadable checkpoint state (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
        if (state == null || !FORMAT.equals(state.path("format").asText())) {
            throw new ShearsException(file + ": not a Shears checkpoint (format is not '" + FORMAT + "')");
        }
        if (state.path("version").asInt() != VERSION) {
            throw new ShearsException(file + ": checkpoint version " + state.path("version") + " is not supported (expected " + VERSION + ")");
        }
        if (!state.path("step").canConvertToLong() || !state.path("files").isObject() || !state.path("domainWeights").isArray()) {
            throw new ShearsException(file + ": checkpoint state lacks step, files or domainWeights");
        }
        return state;
    }

    private static void verifyFiles(Path dir, JsonNode state) {
        for (Map.Entry<String, JsonNode> e : state.path("files").properties()) {
            Path f = dir.resolve(e.getKey());
            try {
                if (!Files.isRegularFile(f)) throw new ShearsException(f + ": missing from the checkpoint");
                long bytes = Files.size(f);
                long expected = e.getValue().path("bytes").asLong();
                if (bytes != expected) {
                    throw new ShearsException(f + ": truncated or altered checkpoint file (" + bytes + " bytes, expected " + expected + ")");
                }
                if (crc32(f) != e.getValue().path("crc32").asLong()) {
                    throw new ShearsException(f + ": corrupt checkpoint file (CRC-32 mismatch)");
                }
            } catch (IOException ex) {
                throw new ShearsException(f + ": cannot read: " + ex.getMessage(), ex);
            }
        }
    }

    private static List<TensorData> momentTensors(AdamW optimizer) {
        List<TensorData> tensors = new ArrayList<>();
        ModelConfig c = optimizer.firstMoment().config();
        optimizer.firstMoment().forEach((role, layer, v) -> tensors.add(new TensorData("m." + TensorNames.HF.name(role, layer), role.shape(c, layer), v)));
        optimizer.secondMoment().forEach((role, layer, v) -> tensors.add(new TensorData("v." + TensorNames.HF.name(role, layer), role.shape(c, layer), v)));
        return tensors;
    }

    private static void restoreMoments(Safetensors.File file, String prefix, ModelWeights into, Path path) {
        into.forEach((role, layer, values) -> {
            String name = prefix + TensorNames.HF.name(role, layer);
            if (!file.entries().containsKey(name)) throw new ShearsException(path + ": missing optimizer tensor " + name);
            float[] saved = file.read(name).values();
            if (saved.length != values.length) {
                throw new ShearsException(path + ": optimizer tensor " + name + " has " + saved.length + " values, expected " + values.length);
            }
            System.arraycopy(saved, 0, values, 0, values.length);
        });
    }

    static long crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) crc.update(buffer, 0, n);
        }
        return crc.getValue();
    }

    /** The step encoded in a checkpoint folder's name, or -1. */
    public static long stepOf(Path dir) {
        Matcher m = NAME.matcher(dir.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

}
