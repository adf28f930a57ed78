package dev.shears.prune;

import dev.shears.dist.Collective;
import dev.shears.dist.SingleProcess;
import dev.shears.model.Architecture;
import dev.shears.model.Model;
import dev.shears.model.ModelConfig;
import dev.shears.model.TinyModels;
import dev.shears.progress.Progress;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Run by {@link MpiTaylorTest} under {@code mpirun -np N}: Taylor's weight-level variants score with the windows shared
 * over the ranks and, on every rank, must give the bits one process gives (computed here too, alone), for a tied table
 * (GQA; windows with repeated tokens, so the Fisher term's cross term meets a row twice) and for an untied head with
 * biases and layers without attention or FFN; 5 windows (uneven over 2 and 3 ranks) and 2 (on 3 ranks one holds none,
 * and window 0 is not rank 0's). Prints one line per rank and exits 0 when all hold.
 */
public final class MpiTaylorProbe {
    private MpiTaylorProbe() {
    }

    public static void main(String[] args) {
        try (Collective c = Collective.fromEnvironment()) {
            int checked = 0;
            List<ModelConfig> configs = List.of(ModelConfig.uniform(Architecture.LLAMA, 8, 2, 4, 2, 2, 6, 11, 16, 1e-5f, 10000, true, false),
                    TinyModels.nonUniformWithBias());
            for (ModelConfig config : configs) {
                Model model = TinyModels.random(config, 3);
                for (int count : new int[] {5, 2}) {
                    List<int[]> windows = windows(config, count);
                    for (TaylorVariant v : TaylorVariant.values()) {
                        if (v.family != TaylorVariant.Family.WEIGHT) continue;
                        CriterionOptions options = new CriterionOptions(v, GroupReduction.SUM, CriterionOptions.AngularTokens.LAST, CriterionOptions.FinalState.NORMED);
                        Importance.Calibrated alone = Importance.calibrate(model, Criterion.TAYLOR, windows, 1, options, Progress.SILENT, new SingleProcess());
                        Importance.Calibrated shared = Importance.calibrate(model, Criterion.TAYLOR, windows, 1, options, Progress.SILENT, c);
                        String what = (config.tiedEmbeddings() ? "tied" : "untied") + ", " + count + " windows, " + v.key();
                        double[] a = alone.scores().values(), b = shared.scores().values();
                        expect(a.length == b.length, what + ": " + b.length + " scores, one process has " + a.length);
                        for (int i = 0; i < a.length; i++) {
                            expect(Double.doubleToRawLongBits(a[i]) == Double.doubleToRawLongBits(b[i]), what + ": score " + i + " is " + b[i] + ", one process's " + a[i]);
                        }
                        expect(Double.doubleToRawLongBits(alone.meanLoss().getAsDouble()) == Double.doubleToRawLongBits(shared.meanLoss().getAsDouble()),
                                what + ": mean loss");
                        checked++;
                    }
                }
            }
            c.barrier();
            System.out.println("rank " + c.rank() + " of " + c.size() + " ok: " + checked + " weight-level scorings as one process");
        }
    }

    private static List<int[]> windows(ModelConfig c, int count) {
        Random random = new Random(17);
        List<int[]> windows = new ArrayList<>();
        for (int i = 0; i < count; i++) windows.add(random.ints(8, 0, c.vocabSize()).toArray());
        return windows;
    }

    private static void expect(boolean condition, String what) {
        if (!condition) throw new AssertionError(what);
    }
}
