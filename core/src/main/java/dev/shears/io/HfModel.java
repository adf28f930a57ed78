package dev.shears.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.ShearsException;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face model folder: {@code config.json} plus {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json}. Reading checks every tensor's name and shape against the
 * tensor-role table; writing is atomic file by file, weights before the config.
 */
public final class HfModel {
    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    /** Default shard size when writing (HF's save_pretrained uses 5 GB; smaller shards suit 24 GB machines). */
    public static final long DEFAULT_SHARD_BYTES = 2L << 30;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfModel() {
    }

    public static boolean isModelFolder(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("config.json"));
    }

    public static Model read(Path dir) {
        ModelConfig config = HfConfig.read(dir.resolve("config.json"));
        Model model = Model.zeros(config);
        Set<String> loaded = new HashSet<>();
        for (Path shard : shards(dir)) {
            try (Safetensors.File file = Safetensors.open(shard)) {
                for (Safetensors.Entry e : file.entries().values()) {
                    String name = e.name();
                    if (HfNames.isIgnorable(name)) continue;
                    HfNames.Key key = HfNames.parse(name)
                            .orElseThrow(() -> new ShearsException(shard + ": unknown tensor '" + name + "' for " + config.architecture().hfClass));
                    if (key.role() == TensorRole.LM_HEAD && config.tiedEmbeddings()) continue;
                    if (key.role().perLayer && key.layer() >= config.numLayers()) {
                        throw new ShearsException(shard + ": tensor '" + name + "' is for layer " + key.layer() + " but the config has " + config.numLayers() + " layers");
                    }
                    if (!key.role().isPresent(config, key.layer())) {
                        throw new ShearsException(shard + ": unexpected tensor '" + name + "' (the config has no such weight"
                                + (key.role().name().endsWith("_BIAS") ? ": attention_bias is false" : "") + ")");
                    }
                    int[] expected = key.role().shape(config, key.layer());
                    if (!Arrays.equals(expected, e.shape())) {
                        throw new ShearsException(shard + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape())
                                + ", the config implies " + Arrays.toString(expected));
                    }
                    model.weights().set(key.role(), key.layer(), file.read(name).values());
                    loaded.add(name);
                }
            }
        }
        model.weights().forEach((role, layer, values) -> {
            String name = HfNames.name(role, layer);
            if (!loaded.contains(name)) throw new ShearsException(dir + ": missing tensor '" + name + "'");
        });
        return model;
    }

    /** The weight files of a folder, from the index when there is one. */
    static List<Path> shards(Path dir) {
        Path index = dir.resolve(INDEX);
        if (Files.isRegularFile(index)) {
            JsonNode map;
            try {
                map = JSON.readTree(index.toFile()).path("weight_map");
            } catch (IOException e) {
                throw new ShearsException(index + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
            }
            if (!map.isObject()) throw new ShearsException(index + ": no weight_map");
            Set<String> files = new LinkedHashSet<>();
            map.fields().forEachRemaining(e -> files.add(e.getValue().asText()));
            List<Path> paths = new ArrayList<>();
            for (String f : files) {
                Path p = dir.resolve(f);
                if (!Files.isRegularFile(p)) throw new ShearsException(index + ": lists shard " + f + ", which is missing");
                paths.add(p);
            }
            return paths;
        }
        Path single = dir.resolve(WEIGHTS);
        if (!Files.isRegularFile(single)) throw new ShearsException(dir + ": no " + WEIGHTS + " or " + INDEX);
        return List.of(single);
    }

    /** Writes a model folder in fp32, one file when it fits in {@link #DEFAULT_SHARD_BYTES}. */
    public static void write(Model model, Path dir) {
        write(model, dir, DType.F32, DEFAULT_SHARD_BYTES);
    }

    public static void write(Model model, Path dir, DType dtype, long maxShardBytes) {
        ModelConfig c = model.config();
        List<TensorData> tensors = new ArrayList<>();
        model.weights().forEach((role, layer, values) -> tensors.add(new TensorData(HfNames.name(role, layer), role.shape(c, layer), values)));
        tensors.sort(java.util.Comparator.comparing(TensorData::name));
        List<List<TensorData>> shards = new ArrayList<>();
        shards.add(new ArrayList<>());
        long current = 0;
        long total = 0;
        for (TensorData t : tensors) {
            long bytes = (long) t.values().length * dtype.bytes;
            total += bytes;
            if (current > 0 && current + bytes > maxShardBytes) {
                shards.add(new ArrayList<>());
                current = 0;
            }
            shards.getLast().add(t);
            current += bytes;
        }
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(INDEX));
        } catch (IOException e) {
            throw new ShearsException(dir + ": cannot create: " + e.getMessage(), e);
        }
        Map<String, String> meta = Map.of("format", "pt");
        if (shards.size() == 1) {
            Safetensors.write(dir.resolve(WEIGHTS), shards.getFirst(), dtype, meta);
        } else {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode map = index.putObject("weight_map");
            for (int i = 0; i < shards.size(); i++) {
                String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                Safetensors.write(dir.resolve(file), shards.get(i), dtype, meta);
                for (TensorData t : shards.get(i)) map.put(t.name(), file);
            }
            try {
                AtomicFiles.writeString(dir.resolve(INDEX), JSON.writeValueAsString(index) + "\n");
                Files.deleteIfExists(dir.resolve(WEIGHTS));
            } catch (IOException e) {
                throw new ShearsException(dir + ": cannot write the shard index: " + e.getMessage(), e);
            }
        }
        HfConfig.write(c, dir.resolve("config.json"), dtype == DType.F32 ? "float32" : dtype == DType.F16 ? "float16" : "bfloat16");
    }
}
