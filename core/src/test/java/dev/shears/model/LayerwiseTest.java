package dev.shears.model;

import dev.shears.kernel.CrossEntropy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Arrays;
import java.util.Optional;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * The forward and backward cut at layer boundaries, with one set of layer buffers recomputed per layer
 * (what streamed calibration does), give the whole-model pass's logits and gate gradients bit for bit.
 */
class LayerwiseTest {
    static Stream<ModelConfig> configs() {
        return Stream.of(TinyModels.gqa(), TinyModels.nonUniformWithBias());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void layerByLayerEqualsTheWholeModel(ModelConfig c) {
        Model model = TinyModels.random(c, 4);
        int seqLen = 9;
        int[] tokens = new Random(1).ints(seqLen, 0, c.vocabSize()).toArray();
        int[] targets = new Random(2).ints(seqLen, 0, c.vocabSize()).toArray();
        MaskSet masks = MaskSet.ones(c);

        Activations whole = Activations.forTraining(c, 1, seqLen);
        float[] logits = Transformer.forward(model, tokens, 1, seqLen, whole, masks).clone();
        CrossEntropy.forwardBackward(whole.logits, targets, seqLen, c.vocabSize(), whole.gradients().logits, 1f);
        MaskSet dWhole = MaskSet.filled(c, 0f);
        Transformer.backward(model, tokens, whole, masks, ModelWeights.zeros(c), dWhole);

        Activations one = Activations.forLayerwise(c, 1, seqLen);
        int rows = seqLen * c.dim();
        float[][] inputs = new float[c.numLayers()][];
        Transformer.embed(model, tokens, one, masks);
        for (int l = 0; l < c.numLayers(); l++) {
            inputs[l] = Arrays.copyOf(one.residual, rows);
            Transformer.layerForward(model, l, one, masks);
        }
        assertArrayEquals(logits, Transformer.headForward(model, one, masks), "logits");
        CrossEntropy.forwardBackward(one.logits, targets, seqLen, c.vocabSize(), one.gradients().logits, 1f);
        MaskSet dLayerwise = MaskSet.filled(c, 0f);
        Transformer.headBackward(model, one, masks, Optional.empty());
        for (int l = c.numLayers() - 1; l >= 0; l--) {
            float[] dResidual = Arrays.copyOf(one.gradients().residual, rows);
            System.arraycopy(inputs[l], 0, one.residual, 0, rows);
            Transformer.layerForward(model, l, one, masks);
            System.arraycopy(dResidual, 0, one.gradients().residual, 0, rows);
            Transformer.layerBackward(model, l, one, masks, Optional.empty(), dLayerwise);
        }
        Transformer.embedBackward(model, tokens, one, masks, Optional.empty(), dLayerwise);

        assertArrayEquals(whole.gradients().residual, one.gradients().residual, "embedding output gradient");
        assertArrayEquals(dWhole.get(Axis.HIDDEN), dLayerwise.get(Axis.HIDDEN), "hidden gates");
        assertArrayEquals(dWhole.get(Axis.ATTENTION_LAYER), dLayerwise.get(Axis.ATTENTION_LAYER), "attention gates");
        assertArrayEquals(dWhole.get(Axis.FFN_LAYER), dLayerwise.get(Axis.FFN_LAYER), "ffn gates");
        for (int l = 0; l < c.numLayers(); l++) {
            if (c.layer(l).hasAttention()) assertArrayEquals(dWhole.get(Axis.HEAD, l), dLayerwise.get(Axis.HEAD, l), "head gates " + l);
            if (c.layer(l).hasFfn()) assertArrayEquals(dWhole.get(Axis.FFN, l), dLayerwise.get(Axis.FFN, l), "neuron gates " + l);
        }
    }
}
