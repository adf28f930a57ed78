package dev.shears.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * Runs independent pieces of work on the kernel threads. Work is always split over independent
 * outputs, never inside one reduction, so results are bit-identical whatever the thread count.
 * The thread count comes from the system property {@code shears.threads} (default: all cores) and
 * is set once by the command line ({@code --threads}).
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = newPool(Integer.getInteger("shears.threads", Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    /** Sets the number of kernel threads (1 runs everything on the caller's thread). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Calls {@code body.accept(i)} for every i in [0, count), spread over the kernel threads. */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        ForkJoinPool p = pool;
        if (count == 1 || p.getParallelism() == 1 || (Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread worker && worker.getPool() == p)) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        p.invoke(new Range(body, 0, count));
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(Math.max(1, threads));
    }

    private static final class Range extends RecursiveAction {
        private final IntConsumer body;
        private final int from;
        private final int to;

        Range(IntConsumer body, int from, int to) {
            this.body = body;
            this.from = from;
            this.to = to;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(body, from, mid), new Range(body, mid, to));
        }
    }
}
