package dev.shears.model;

import dev.shears.kernel.CrossEntropy;
import dev.shears.tensor.GradCheck;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * The whole model's backward pass against finite differences of its loss, on sampled coordinates of
 * every parameter tensor and every gate: GQA, tied and untied embeddings, q/k/v biases, layers
 * without attention or FFN, with and without gates.
 */
class ModelGradientTest {
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("gqa tied", TinyModels.gqa(), false),
                Arguments.of("gqa tied, gated", TinyModels.gqa(), true),
                Arguments.of("non-uniform bias untied", TinyModels.nonUniformWithBias(), false),
                Arguments.of("non-uniform bias untied, gated", TinyModels.nonUniformWithBias(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardMatchesFiniteDifferences(String name, ModelConfig config, boolean gated) {
        Model model = TinyModels.random(config, 21);
        int batch = 2, seqLen = 6;
        Random r = new Random(5);
        int[] tokens = new int[batch * seqLen];
        int[] targets = new int[batch * seqLen];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(config.vocabSize());
            targets[i] = r.nextInt(config.vocabSize());
        }
        targets[3] = CrossEntropy.IGNORE;
        MaskSet masks = gated ? randomGates(config, r) : MaskSet.NONE;
        Activations acts = Activations.forTraining(config, batch, seqLen);
        int rows = batch * seqLen;
        Supplier<Double> loss = () -> {
            float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, masks);
            return CrossEntropy.forwardBackward(logits, targets, rows, config.vocabSize(), new float[0], 1f);
        };
        float[] logits = Transformer.forward(model, tokens, batch, seqLen, acts, masks);
        CrossEntropy.forwardBackward(logits, targets, rows, config.vocabSize(), acts.gradients().logits, 1f);
        ModelWeights grads = ModelWeights.zeros(config);
        MaskSet dMasks = gated ? MaskSet.filled(config, 0f) : MaskSet.NONE;
        Transformer.backward(model, tokens, acts, masks, grads, dMasks);

        model.weights().forEach((role, layer, values) ->
                GradCheck.check(name + " d" + role + (layer >= 0 ? "[" + layer + "]" : ""), values, grads.get(role, layer), loss, 12,
                        1e-2, 1e-4, 3e-2));
        if (gated) {
            GradCheck.check(name + " dHiddenGate", masks.get(Axis.HIDDEN), dMasks.get(Axis.HIDDEN), loss, 8, 1e-2, 1e-4, 3e-2);
            GradCheck.check(name + " dAttentionLayerGate", masks.get(Axis.ATTENTION_LAYER), dMasks.get(Axis.ATTENTION_LAYER), loss, 8, 1e-2, 1e-4, 3e-2);
            GradCheck.check(name + " dFfnLayerGate", masks.get(Axis.FFN_LAYER), dMasks.get(Axis.FFN_LAYER), loss, 8, 1e-2, 1e-4, 3e-2);
            for (int l = 0; l < config.numLayers(); l++) {
                GradCheck.check(name + " dHeadGate[" + l + "]", masks.get(Axis.HEAD, l), dMasks.get(Axis.HEAD, l), loss, 8, 1e-2, 1e-4, 3e-2);
                GradCheck.check(name + " dNeuronGate[" + l + "]", masks.get(Axis.FFN, l), dMasks.get(Axis.FFN, l), loss, 8, 1e-2, 1e-4, 3e-2);
            }
        }
    }

    private static MaskSet randomGates(ModelConfig config, Random r) {
        MaskSet masks = MaskSet.ones(config);
        fill(masks.get(Axis.HIDDEN), r);
        fill(masks.get(Axis.ATTENTION_LAYER), r);
        fill(masks.get(Axis.FFN_LAYER), r);
        for (int l = 0; l < config.numLayers(); l++) {
            fill(masks.get(Axis.HEAD, l), r);
            fill(masks.get(Axis.FFN, l), r);
        }
        return masks;
    }

    private static void fill(float[] gates, Random r) {
        for (int i = 0; i < gates.length; i++) gates[i] = 0.5f + r.nextFloat();
    }
}
