package dev.shears.prune;

import dev.shears.dist.Collective;
import dev.shears.dist.OrderedSum;
import dev.shears.kernel.CrossEntropy;
import dev.shears.model.Activations;
import dev.shears.model.MaskSet;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.Transformer;
import dev.shears.progress.Progress;

import java.util.List;

/**
 * A forward pass over calibration windows with layers outermost: every window's residual stream is
 * kept at the current layer boundary ({@code windows × seqLen × dim} floats), each layer runs over all
 * windows and then releases its mapped pages, so the weights touched at once are one layer's, whatever
 * the model's size (a model larger than memory is read once per pass). Each window goes through the
 * same kernels as {@link Transformer#forward}: the same bits.
 */
final class LayerwisePass {
    /** Sees each window after each layer. */
    interface LayerHook {
        /**
         * @param input  the window's residual entering layer l [seqLen, dim] (do not keep: it is reused)
         * @param acts   after {@link Transformer#layerForward}: the layer's buffers and, in {@code residual}, its output
         */
        void afterLayer(int layer, int window, float[] input, Activations acts);
    }

    private final Model model;
    private final List<int[]> windows;
    private final int seqLen;
    /** Each window's residual stream at the current layer boundary. */
    private final float[][] residual;

    /**
     * @param windows sequences of seqLen + 1 tokens (inputs and next-token targets): all of them, or a rank's share
     *                ({@link #share}), which may be empty
     */
    LayerwisePass(Model model, List<int[]> windows, int seqLen) {
        this.model = model;
        this.windows = windows;
        this.seqLen = seqLen;
        this.residual = new float[windows.size()][];
    }

    /**
     * This rank's share of the windows: the contiguous run {@link OrderedSum#first} gives it, whatever the thread count.
     * Per-window results are combined in window order over the ranks ({@link OrderedSum}), so they have the bits one
     * process computes, for any number of ranks.
     */
    static List<int[]> share(Collective collective, List<int[]> windows) {
        int n = windows.size(), rank = collective.rank(), size = collective.size();
        return windows.subList(OrderedSum.first(n, rank, size), OrderedSum.first(n, rank + 1, size));
    }

    /** The windows this pass runs (a rank's share). */
    int windows() {
        return windows.size();
    }

    int seqLen() {
        return seqLen;
    }

    int[] input(int window) {
        return java.util.Arrays.copyOf(windows.get(window), seqLen);
    }

    int[] target(int window) {
        return java.util.Arrays.copyOfRange(windows.get(window), 1, seqLen + 1);
    }

    /** Embeds every window, then runs the layers in order over all windows. */
    void forward(Activations acts, MaskSet masks, LayerHook hook, Progress progress, String label) {
        ModelConfig c = model.config();
        int rows = seqLen * c.dim();
        float[] input = new float[rows];
        for (int n = 0; n < windows.size(); n++) {
            Transformer.embed(model, input(n), acts, masks);
            residual[n] = java.util.Arrays.copyOf(acts.residual, rows);
        }
        progress.start(label, c.numLayers(), "layer");
        for (int l = 0; l < c.numLayers(); l++) {
            for (int n = 0; n < windows.size(); n++) {
                System.arraycopy(residual[n], 0, acts.residual, 0, rows);
                System.arraycopy(residual[n], 0, input, 0, rows);
                Transformer.layerForward(model, l, acts, masks);
                hook.afterLayer(l, n, input, acts);
                System.arraycopy(acts.residual, 0, residual[n], 0, rows);
            }
            model.weights().release(l);
            progress.advance(1);
        }
        progress.finish();
    }

    /** Puts window n's final residual in {@code acts.residual} and returns its logits. */
    float[] head(int n, Activations acts, MaskSet masks) {
        System.arraycopy(residual[n], 0, acts.residual, 0, residual[n].length);
        return Transformer.headForward(model, acts, masks);
    }

    /** After {@link #forward}: each window's next-token loss, in window order. */
    double[] losses(Activations acts, MaskSet masks) {
        double[] losses = new double[windows.size()];
        for (int n = 0; n < windows.size(); n++) {
            losses[n] = CrossEntropy.forwardBackward(head(n, acts, masks), target(n), seqLen, model.config().vocabSize(), new float[0], 1f);
        }
        return losses;
    }

    /**
     * The mean next-token loss over the windows, as {@code Trainer.meanLoss} computes it (same bits),
     * one layer's weights at a time; the ranks of {@code collective} share the windows ({@link #share}).
     */
    static double meanLoss(Model model, List<int[]> windows, Progress progress, Collective collective) {
        LayerwisePass pass = new LayerwisePass(model, share(collective, windows), windows.getFirst().length - 1);
        Activations acts = Activations.forInference(model.config(), 1, pass.seqLen);
        pass.forward(acts, MaskSet.NONE, (l, n, in, a) -> { }, progress, "loss");
        return mean(collective, windows.size(), pass.losses(acts, MaskSet.NONE));
    }

    /** The mean of every window's value, given this rank's share ({@code mine}), added in window order: {@code ((x₀ + x₁) + x₂) + …}. */
    static double mean(Collective collective, int windows, double[] mine) {
        double sum = 0;
        for (double x : OrderedSum.gather(collective, windows, mine)) sum += x;
        return sum / windows;
    }
}
