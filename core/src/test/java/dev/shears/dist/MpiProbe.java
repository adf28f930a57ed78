package dev.shears.dist;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Run by {@link MpiTest} under {@code mpirun -np N}: every collective of {@link Mpi} and {@link OrderedSum}
 * against what it must give, computed locally. Prints one line per rank and exits 0 when all hold.
 */
public final class MpiProbe {
    private MpiProbe() {
    }

    public static void main(String[] args) {
        try (Collective c = Collective.fromEnvironment()) {
            int rank = c.rank(), size = c.size();
            expect(c instanceof Mpi, "started by mpirun, the collective is " + c.getClass().getSimpleName());
            expect(size == Integer.parseInt(System.getenv(Collective.WORLD_SIZE)), "size " + size);
            expect(rank == Integer.parseInt(System.getenv(Collective.WORLD_RANK)), "rank " + rank);

            float[] f = new float[1001];
            double[] d = new double[1001];
            for (int i = 0; i < f.length; i++) {
                f[i] = rank + i * 0.5f;
                d[i] = rank * 1e-3 + i;
            }
            c.allReduceSum(f);
            c.allReduceSum(d);
            int ranks = size * (size - 1) / 2;
            for (int i = 0; i < f.length; i++) {
                expect(f[i] == ranks + size * i * 0.5f, "allReduce float[" + i + "] = " + f[i]);
                expect(Math.abs(d[i] - (ranks * 1e-3 + size * (double) i)) < 1e-9, "allReduce double[" + i + "] = " + d[i]);
            }

            float[] b = new float[7];
            byte[] bytes = new byte[5];
            if (rank == size - 1) {
                Arrays.fill(b, 42.5f);
                Arrays.fill(bytes, (byte) 7);
            }
            c.broadcast(b, size - 1);
            c.broadcast(bytes, size - 1);
            for (float v : b) expect(v == 42.5f, "broadcast float " + v);
            for (byte v : bytes) expect(v == 7, "broadcast byte " + v);

            // uneven parts: rank r gives r + 1 values
            int[] counts = new int[size];
            for (int r = 0; r < size; r++) counts[r] = r + 1;
            float[] mine = new float[rank + 3];
            for (int j = 0; j <= rank; j++) mine[2 + j] = rank * 10 + j;
            float[] all = new float[size * (size + 1) / 2];
            c.allGather(mine, 2, all, counts);
            for (int r = 0, k = 0; r < size; r++) {
                for (int j = 0; j <= r; j++, k++) expect(all[k] == r * 10 + j, "allGather[" + k + "] = " + all[k]);
            }

            // ordered sums of 5 items (uneven over 2 and 3 ranks), of 1 item (some ranks hold none), and of vectors
            // longer than one message of the chain
            for (int[] shape : new int[][] {{5, 10_001}, {1, 10_001}, {3, 2 * OrderedSum.PART + 3}}) {
                int items = shape[0], length = shape[1];
                float[][] vectors = new float[items][length];
                for (int m = 0; m < items; m++) {
                    SplittableRandom random = new SplittableRandom(m);
                    for (int j = 0; j < length; j++) vectors[m][j] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(-3, 4)));
                }
                float[] expected = vectors[0].clone();
                for (int m = 1; m < items; m++) for (int j = 0; j < length; j++) expected[j] += vectors[m][j];
                List<float[]> held = new ArrayList<>();
                for (int m = OrderedSum.first(items, rank, size); m < OrderedSum.first(items, rank + 1, size); m++) held.add(vectors[m].clone());
                float[] out = held.isEmpty() ? new float[length] : held.getFirst(); // the sum may overwrite the first item
                OrderedSum.sum(c, items, held, out);
                for (int j = 0; j < length; j++) {
                    expect(Float.floatToRawIntBits(out[j]) == Float.floatToRawIntBits(expected[j]),
                            "ordered sum of " + items + " items [" + j + "] = " + out[j] + ", one process adds " + expected[j]);
                }
                // the same sum with the rank holding item 0 adding its items itself as they come, keeping none of them
                boolean holdsFirst = OrderedSum.share(items, rank, size) > 0 && OrderedSum.first(items, rank, size) == 0;
                float[] running = new float[length];
                List<float[]> later = new ArrayList<>();
                for (int m = OrderedSum.first(items, rank, size); m < OrderedSum.first(items, rank + 1, size); m++) {
                    if (!holdsFirst) later.add(vectors[m]);
                    else for (int j = 0; j < length; j++) running[j] += vectors[m][j];
                }
                OrderedSum.sumContinuing(c, items, later, running);
                for (int j = 0; j < length; j++) {
                    expect(Float.floatToRawIntBits(running[j]) == Float.floatToRawIntBits(expected[j]),
                            "continued ordered sum of " + items + " items [" + j + "] = " + running[j] + ", one process adds " + expected[j]);
                }
                double[] own = new double[OrderedSum.first(items, rank + 1, size) - OrderedSum.first(items, rank, size)];
                for (int i = 0; i < own.length; i++) own[i] = OrderedSum.first(items, rank, size) + i + 0.25;
                double[] gathered = OrderedSum.gather(c, items, own);
                for (int m = 0; m < items; m++) expect(gathered[m] == m + 0.25, "gather[" + m + "] = " + gathered[m]);
                // vectors of differing lengths (item m holds m % 3 values: some none), in item order
                List<double[]> vectorsOwn = new ArrayList<>();
                for (int m = OrderedSum.first(items, rank, size); m < OrderedSum.first(items, rank + 1, size); m++) vectorsOwn.add(ragged(m));
                List<double[]> everyItem = OrderedSum.gather(c, items, vectorsOwn);
                expect(everyItem.size() == items, "gathered " + everyItem.size() + " vectors of " + items);
                for (int m = 0; m < items; m++) expect(Arrays.equals(everyItem.get(m), ragged(m)), "vector gather[" + m + "] = " + Arrays.toString(everyItem.get(m)));
            }
            c.barrier();
            System.out.println("rank " + rank + " of " + size + " ok");
        }
    }

    /** Item m's vector of the ragged gather: m % 3 values. */
    private static double[] ragged(int m) {
        double[] v = new double[m % 3];
        for (int j = 0; j < v.length; j++) v[j] = m * 100 + j + 0.5;
        return v;
    }

    private static void expect(boolean condition, String what) {
        if (!condition) throw new AssertionError(what);
    }
}
