package dev.shears.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.shears.model.LayerShape;
import dev.shears.model.ModelConfig;
import dev.shears.model.TensorRole;
import dev.shears.recipe.InfoRun;
import dev.shears.recipe.ModelSource;
import dev.shears.seq2seq.EncoderDecoder;
import dev.shears.seq2seq.EncoderDecoderConfig;
import dev.shears.seq2seq.T5Config;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/** {@code shears info}: architecture, per-layer shapes and parameter counts by tensor role. */
@Command(name = "info", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Show a model's architecture, shapes per layer and parameter counts by tensor role.",
        footerHeading = "%nExamples:%n",
        footer = {"  shears info ../shared/data/models/stories260K/hf",
                "  shears info model.gguf --json"})
final class InfoCommand implements Runnable {
    @Mixin
    ModelOptions model;

    @Mixin
    JsonOutput output;

    @Override
    public void run() {
        if (EncoderDecoder.describes(model.model)) {
            encoderDecoder(EncoderDecoderConfig.read(model.model));
            return;
        }
        InfoRun.Result r = InfoRun.run(model.model, Optional.ofNullable(model.tokenizer));
        ModelConfig config = r.config();
        ObjectNode info = describe(config);
        info.put("memoryDtype", r.memoryDtype()).put("weightBytes", r.weightBytes());
        info.put("model", model.model.toString()).put("format", r.format());
        r.tokenizerVocabSize().ifPresent(v -> info.put("tokenizerVocabSize", v));
        if (output.json) {
            output.print(info);
        } else {
            output.out().println(text(config, info));
        }
    }

    /** An encoder–decoder folder (T5, OpenBA) from its config.json alone: its widths per stack and layer, its parameters (held in fp32). */
    private void encoderDecoder(EncoderDecoderConfig c) {
        ObjectNode n = Json.object();
        n.put("model", model.model.toString()).put("format", "hf").put("architecture", c instanceof T5Config ? "T5ForConditionalGeneration" : "OpenBAForConditionalGeneration");
        n.put("shape", c.describe()).put("dim", c.dim()).put("headDim", c.headDim()).put("vocabSize", c.vocabSize()).put("tiedEmbeddings", c.tiedEmbeddings());
        ArrayNode encoder = n.putArray("encoder"), decoder = n.putArray("decoder");
        for (EncoderDecoderConfig.Layer l : c.encoder()) encoder.addObject().put("numHeads", l.numHeads()).put("ffnDim", l.ffnDim());
        for (EncoderDecoderConfig.Layer l : c.decoder()) decoder.addObject().put("numHeads", l.numHeads()).put("crossHeads", l.crossHeads()).put("ffnDim", l.ffnDim());
        n.put("params", c.parameterCount()).put("memoryDtype", "f32").put("weightBytes", 4 * c.parameterCount());
        ModelSource.tokenizer(model.model, Optional.ofNullable(model.tokenizer)).ifPresent(t -> n.put("tokenizerVocabSize", t.vocabSize()));
        if (output.json) {
            output.print(n);
            return;
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%s (%s, hf)%n  %s%n  parameters   %,d (held in fp32: %.1f MB)%n", model.model,
                n.path("architecture").asText(), c.describe(), c.parameterCount(), 4e-6 * c.parameterCount()));
        for (int i = 0; i < c.encoder().size(); i++) {
            EncoderDecoderConfig.Layer l = c.encoder().get(i);
            s.append(String.format(Locale.ROOT, "    encoder %2d: %d heads, FFN %d%n", i, l.numHeads(), l.ffnDim()));
        }
        for (int i = 0; i < c.decoder().size(); i++) {
            EncoderDecoderConfig.Layer l = c.decoder().get(i);
            s.append(String.format(Locale.ROOT, "    decoder %2d: %d heads, %d cross heads, FFN %d%n", i, l.numHeads(), l.crossHeads(), l.ffnDim()));
        }
        output.out().println(s.toString().stripTrailing());
    }

    static ObjectNode describe(ModelConfig c) {
        ObjectNode n = Json.object();
        n.put("architecture", c.architecture().hfClass);
        n.put("numLayers", c.numLayers()).put("dim", c.dim()).put("headDim", c.headDim()).put("vocabSize", c.vocabSize());
        n.put("maxSeqLen", c.maxSeqLen()).put("normEps", c.normEps()).put("ropeTheta", c.ropeTheta())
                .put("ropeScaling", c.ropeScaling().type().name().toLowerCase(Locale.ROOT))
                .put("tiedEmbeddings", c.tiedEmbeddings()).put("attentionBias", c.attentionBias()).put("uniform", c.isUniform());
        ArrayNode layers = n.putArray("layers");
        for (LayerShape s : c.layers()) layers.addObject().put("numHeads", s.numHeads()).put("numKvHeads", s.numKvHeads()).put("ffnDim", s.ffnDim());
        ObjectNode byRole = n.putObject("paramsByRole");
        for (Map.Entry<TensorRole, Long> e : parametersByRole(c).entrySet()) byRole.put(e.getKey().name().toLowerCase(Locale.ROOT), e.getValue());
        n.put("params", c.parameterCount());
        return n;
    }

    static Map<TensorRole, Long> parametersByRole(ModelConfig c) {
        Map<TensorRole, Long> counts = new EnumMap<>(TensorRole.class);
        for (TensorRole role : TensorRole.values()) {
            if (!role.isStored(c)) continue;
            long total = role.totalSize(c);
            if (total > 0) counts.put(role, total);
        }
        return counts;
    }

    private static String text(ModelConfig c, ObjectNode info) {
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "%s (%s, %s)%n", info.path("model").asText(), c.architecture().hfClass, info.path("format").asText()));
        s.append(String.format(Locale.ROOT, "  parameters   %,d (%s %.1f MB in the file, fp32 %.1f MB)%n", c.parameterCount(), info.path("memoryDtype").asText(),
                info.path("weightBytes").asLong() / 1e6, c.parameterCount() * 4 / 1e6));
        s.append(String.format(Locale.ROOT, "  dim %d, head dim %d, vocabulary %d, context %d, %s embeddings%s%n", c.dim(), c.headDim(), c.vocabSize(),
                c.maxSeqLen(), c.tiedEmbeddings() ? "tied" : "untied", c.attentionBias() ? ", q/k/v biases" : ""));
        s.append(String.format(Locale.ROOT, "  RoPE theta %.0f, scaling %s; RMSNorm eps %.1e%n", c.ropeTheta(), info.path("ropeScaling").asText(), c.normEps()));
        if (c.isUniform()) {
            LayerShape l = c.layer(0);
            s.append(String.format(Locale.ROOT, "  %d layers × (%d heads, %d kv heads, FFN %d)%n", c.numLayers(), l.numHeads(), l.numKvHeads(), l.ffnDim()));
        } else {
            s.append(String.format(Locale.ROOT, "  %d layers (non-uniform):%n", c.numLayers()));
            for (int i = 0; i < c.numLayers(); i++) {
                LayerShape l = c.layer(i);
                s.append(String.format(Locale.ROOT, "    layer %2d: %d heads, %d kv heads, FFN %d%n", i, l.numHeads(), l.numKvHeads(), l.ffnDim()));
            }
        }
        s.append("  parameters by role:\n");
        for (Map.Entry<TensorRole, Long> e : parametersByRole(c).entrySet()) {
            s.append(String.format(Locale.ROOT, "    %-15s %,14d  %5.1f%%%n", e.getKey().name().toLowerCase(Locale.ROOT), e.getValue(), 100.0 * e.getValue() / c.parameterCount()));
        }
        return s.toString().stripTrailing();
    }
}
