package dev.shears.format.hf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.NamedTensor;
import dev.shears.io.Printable;
import dev.shears.io.TensorNames;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.ModelWeights;
import dev.shears.model.TensorRole;
import dev.shears.tensor.DenseTensor;
import dev.shears.tensor.MappedTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * A Hugging Face model folder: {@code config.json} plus {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json}; a folder without safetensors is read from torch.save's
 * {@code pytorch_model.bin} or the shards in {@code pytorch_model.bin.index.json} ({@link TorchPickle}),
 * the same way. Reading checks every tensor's name and shape against the tensor-role table; writing
 * (always safetensors) is atomic file by file, weights before the config.
 */
public final class HfModel {
    public static final String WEIGHTS = "model.safetensors";
    public static final String INDEX = "model.safetensors.index.json";
    public static final String TORCH_WEIGHTS = "pytorch_model.bin";
    public static final String TORCH_INDEX = "pytorch_model.bin.index.json";
    /** Default shard size when writing: 5 GB, as HF's {@code save_pretrained}. */
    public static final long DEFAULT_SHARD_BYTES = 5_000_000_000L;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private HfModel() {
    }

    /** The weight files a folder may hold, in the order they are looked for (as transformers prefers safetensors). */
    enum Layout {
        SAFETENSORS(WEIGHTS, INDEX, Safetensors::open), TORCH(TORCH_WEIGHTS, TORCH_INDEX, TorchPickle::open);

        final String single;
        final String index;
        private final Function<Path, WeightFile> opener;

        Layout(String single, String index, Function<Path, WeightFile> opener) {
            this.single = single;
            this.index = index;
            this.opener = opener;
        }

        WeightFile open(Path file) {
            return opener.apply(file);
        }
    }

    /**
     * A folder's weight files.
     *
     * @param files tensor name → weight file, from the index when there is one ({@link #WEIGHTS_KEY} → the single file otherwise)
     */
    record Weights(Layout layout, Map<String, Path> files) {
    }

    public static boolean isModelFolder(Path dir) {
        return Files.isDirectory(dir) && Files.isRegularFile(dir.resolve("config.json"));
    }

    /** Reads a model folder with every weight widened to fp32 on the heap (what training needs). */
    public static Model read(Path dir) {
        try (Model mapped = open(dir)) {
            return mapped.dense();
        }
    }

    /**
     * Opens a model folder with its matrices read in place from the memory-mapped shards, in their
     * dtype; vectors (norms, biases) are widened onto the heap. The model owns the mappings: close it.
     * Only headers are read here, and every name and shape is checked against the config first.
     */
    public static Model open(Path dir) {
        ModelConfig config = HfConfig.read(dir.resolve("config.json"));
        Weights weights = shards(dir);
        List<WeightFile> files = openAll(weights);
        try {
            Map<String, WeightFile> found = new LinkedHashMap<>();
            for (WeightFile file : files) {
                for (WeightFile.TensorEntry e : file.entries().values()) {
                    if (TensorNames.HF.isIgnorable(e.name())) continue;
                    TensorNames.Key key = check(config, weights, file, e, found);
                    if (key.role() == TensorRole.LM_HEAD && config.tiedEmbeddings()) continue;
                    found.put(e.name(), file);
                }
            }
            ModelWeights tensors = ModelWeights.of(config, (role, layer) -> {
                String name = TensorNames.HF.name(role, layer);
                WeightFile file = found.get(name);
                if (file == null) throw Printable.error(dir + ": missing tensor '" + name + "'");
                MappedTensor t = file.mapped(name, role.rows(config, layer), role.cols(config, layer));
                return role.rank() == 2 ? t : DenseTensor.vector(t.toArray());
            }, files);
            return new Model(config, tensors);
        } catch (RuntimeException e) {
            files.forEach(WeightFile::close);
            throw e;
        }
    }

    /**
     * Opens every weight file of a folder in the layout {@link #open} would read (an index's shards, else the
     * single file; safetensors before torch.save's), for models that keep their own name table ({@link FolderWeights}).
     * The caller closes them.
     */
    public static List<WeightFile> openWeightFiles(Path dir) {
        return openAll(shards(dir));
    }

    /** Opens each file of {@code weights} once; on a failure, closes those already open. */
    private static List<WeightFile> openAll(Weights weights) {
        List<WeightFile> files = new ArrayList<>();
        try {
            for (Path shard : new LinkedHashSet<>(weights.files().values())) files.add(weights.layout().open(shard));
        } catch (RuntimeException e) {
            files.forEach(WeightFile::close);
            throw e;
        }
        return files;
    }

    /** The role of one stored tensor, checked against the config and the index. */
    private static TensorNames.Key check(ModelConfig config, Weights weights, WeightFile file, WeightFile.TensorEntry e, Map<String, WeightFile> found) {
        Path shard = file.path();
        String name = e.name();
        if (found.containsKey(name)) throw Printable.error(shard + ": tensor '" + name + "' is also in " + found.get(name).path());
        Path listed = weights.files().get(name);
        if (listed != null && !listed.equals(shard)) {
            throw Printable.error(shard + ": holds tensor '" + name + "', which " + weights.layout().index + " places in " + listed.getFileName());
        }
        TensorNames.Key key = TensorNames.HF.parse(name)
                .orElseThrow(() -> Printable.error(shard + ": unknown tensor '" + name + "' for " + config.architecture().hfClass));
        if (key.role() == TensorRole.LM_HEAD && config.tiedEmbeddings()) return key;
        if (key.role().perLayer && key.layer() >= config.numLayers()) {
            throw Printable.error(shard + ": tensor '" + name + "' is for layer " + key.layer() + " but the config has " + config.numLayers() + " layers");
        }
        if (!key.role().isPresent(config, key.layer())) {
            throw Printable.error(shard + ": unexpected tensor '" + name + "' (the config has no such weight"
                    + (key.role().name().endsWith("_BIAS") ? ": attention_bias is false" : "") + ")");
        }
        int[] expected = key.role().shape(config, key.layer());
        if (!Arrays.equals(expected, e.shape())) {
            throw Printable.error(shard + ": tensor '" + name + "' has shape " + Arrays.toString(e.shape()) + ", the config implies " + Arrays.toString(expected));
        }
        return key;
    }

    /** Marks the single-file layout in {@link #shards}' map, which then has no per-tensor entries. */
    private static final String WEIGHTS_KEY = "";

    /** The weight files of the first layout found: an index, else a single file, safetensors before torch.save's. */
    static Weights shards(Path dir) {
        for (Layout layout : Layout.values()) {
            if (Files.isRegularFile(dir.resolve(layout.index))) return new Weights(layout, index(dir, dir.resolve(layout.index)));
            Path single = dir.resolve(layout.single);
            if (Files.isRegularFile(single)) return new Weights(layout, Map.of(WEIGHTS_KEY, single.toAbsolutePath().normalize()));
        }
        throw Printable.error(dir + ": no " + WEIGHTS + " or " + INDEX + " (nor " + TORCH_WEIGHTS + " or " + TORCH_INDEX + ")");
    }

    /** Tensor name → weight file, from an index's weight_map. */
    private static Map<String, Path> index(Path dir, Path index) {
        JsonNode map;
        try {
            map = JSON.readTree(index.toFile()).path("weight_map");
        } catch (IOException e) {
            throw Printable.error(index + ": not valid JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!map.isObject() || map.isEmpty()) throw Printable.error(index + ": no weight_map");
        Map<String, Path> out = new LinkedHashMap<>();
        Path root = dir.toAbsolutePath().normalize();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            String f = e.getValue().asText("");
            Path p = root.resolve(f).normalize();
            if (!e.getValue().isTextual() || f.isEmpty() || !p.getParent().equals(root)) {
                throw Printable.error(index + ": tensor " + e.getKey() + " is placed in '" + f + "', which is not a file name in the folder");
            }
            if (!Files.isRegularFile(p)) throw Printable.error(index + ": lists shard " + f + ", which is missing");
            out.put(e.getKey(), p.toAbsolutePath().normalize());
        }
        return out;
    }

    /** Writes a model folder in fp32, one file when it fits in {@link #DEFAULT_SHARD_BYTES}. */
    public static void write(Model model, Path dir) {
        write(model, dir, DType.F32, DEFAULT_SHARD_BYTES);
    }

    /**
     * Writes a model folder in {@code dtype}, in shards of at most {@code maxShardBytes} (a tensor larger
     * than that gets a shard of its own) with an index when there are several. Tensors are streamed
     * row by row from wherever they live, so writing needs one row of memory; each file is written
     * to a temporary name and all are moved into place together, weights before the config.
     */
    public static void write(Model model, Path dir, DType dtype, long maxShardBytes) {
        ModelConfig c = model.config();
        List<NamedTensor> tensors = new ArrayList<>();
        model.weights().forEachTensor((role, layer, t) -> tensors.add(new NamedTensor(TensorNames.HF.name(role, layer), role.shape(c, layer), t)));
        tensors.sort(java.util.Comparator.comparing(NamedTensor::name));
        List<List<NamedTensor>> shards = new ArrayList<>();
        shards.add(new ArrayList<>());
        long current = 0;
        long total = 0;
        for (NamedTensor t : tensors) {
            long bytes = t.tensor().size() * dtype.bytes;
            total += bytes;
            if (current > 0 && current + bytes > maxShardBytes) {
                shards.add(new ArrayList<>());
                current = 0;
            }
            shards.getLast().add(t);
            current += bytes;
        }
        Map<String, String> meta = Map.of("format", "pt");
        Set<String> written = new LinkedHashSet<>();
        try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
            if (shards.size() == 1) {
                batch.add(dir.resolve(WEIGHTS), Safetensors.content(shards.getFirst(), dtype, meta));
                written.add(WEIGHTS);
            } else {
                ObjectNode index = JSON.createObjectNode();
                index.putObject("metadata").put("total_size", total);
                ObjectNode map = index.putObject("weight_map");
                for (int i = 0; i < shards.size(); i++) {
                    String file = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
                    batch.add(dir.resolve(file), Safetensors.content(shards.get(i), dtype, meta));
                    written.add(file);
                    for (NamedTensor t : shards.get(i)) map.put(t.name(), file);
                }
                String indexText = index.toPrettyString() + "\n";
                batch.add(dir.resolve(INDEX), out -> out.write(indexText.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
                written.add(INDEX);
            }
            String configText = HfConfig.toJson(c, dtype.torchName).toPrettyString() + "\n";
            batch.add(dir.resolve("config.json"), out -> out.write(configText.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            batch.commit();
        }
        removeStale(dir, written);
    }

    /** Deletes weight files of an earlier write that the new one does not use, so they cannot be read with it. */
    private static void removeStale(Path dir, Set<String> written) {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                boolean ours = name.equals(WEIGHTS) || name.equals(INDEX) || SHARD.matcher(name).matches();
                if (ours && !written.contains(name)) Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw Printable.error(dir + ": cannot remove the weight files of an earlier write: " + e.getMessage(), e);
        }
    }

    private static final java.util.regex.Pattern SHARD = java.util.regex.Pattern.compile("model-\\d{5}-of-\\d{5}\\.safetensors");
}
