package dev.shears.seq2seq;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.format.hf.HfModel;
import dev.shears.format.hf.Safetensors;
import dev.shears.io.AtomicFiles;
import dev.shears.io.DType;
import dev.shears.io.NamedTensor;
import dev.shears.io.TensorData;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an OpenBA model as a Hugging Face OpenBAForConditionalGeneration folder that {@link OpenBaModel#load}
 * (and the published {@code modeling_openba.py}) reads: {@code model.safetensors} under the published names of
 * {@link OpenBaWeights#forEach} and {@code config.json}, the one the model was read with, its {@code torch_dtype}
 * set to the written dtype.
 */
public final class OpenBaHfFolder {
    private OpenBaHfFolder() {
    }

    /**
     * Writes {@code model.safetensors} in {@code dtype} and {@code config.json} into {@code dir}, each under a
     * temporary name, moved into place together (weights before the config).
     *
     * @param config the config.json {@code model} was read from (it describes {@code model.config()})
     */
    public static void write(OpenBaModel model, ObjectNode config, Path dir, DType dtype) {
        List<NamedTensor> tensors = new ArrayList<>();
        model.weights().forEach(model.config(), (name, shape, values) -> tensors.add(new TensorData(name, shape, values).named()));
        String configText = config.deepCopy().put("torch_dtype", dtype.torchName).toPrettyString() + "\n";
        try (AtomicFiles.Batch batch = new AtomicFiles.Batch()) {
            batch.add(dir.resolve(HfModel.WEIGHTS), Safetensors.content(tensors, dtype, Map.of("format", "pt")));
            batch.add(dir.resolve("config.json"), out -> out.write(configText.getBytes(StandardCharsets.UTF_8)));
            batch.commit();
        }
    }
}
