package dev.shears.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * Runs independent pieces of work on the kernel threads. Work is always split over independent
 * outputs, never inside one reduction, so results are bit-identical whatever the thread count.
 * The thread count comes from the system property {@code shears.threads} (default: all cores) and
 * is set once by the command line ({@code --threads}).
 *
 * <p>How: the caller and {@code threads − 1} workers take indices from one counter until none are
 * left. A worker that runs out of work spins for {@value #SPIN_NANOS} ns before it parks, so the
 * next call, usually microseconds away (a layer is a few dozen calls), finds it awake: waking a
 * parked thread costs 50–100 µs on a virtual machine, as long as a whole matrix–vector product of
 * generation. A call made while another is running (nested inside a body, or from another thread)
 * runs on its caller alone.
 */
public final class Parallel {
    /** How long an idle worker (or a waiting caller) spins before it parks. */
    static final long SPIN_NANOS = 2_000_000;

    private static volatile Team team = new Team(Integer.getInteger("shears.threads", Runtime.getRuntime().availableProcessors()));

    private Parallel() {
    }

    /** Sets the number of kernel threads (1 runs everything on the caller's thread). */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        if (threads == team.threads) return;
        Team old = team;
        team = new Team(threads);
        old.close();
    }

    public static int threads() {
        return team.threads;
    }

    /** Calls {@code body.accept(i)} for every i in [0, count), spread over the kernel threads. */
    public static void forEach(int count, IntConsumer body) {
        if (count <= 0) return;
        Team t = team;
        if (count == 1 || t.threads == 1 || !t.busy.compareAndSet(false, true)) {
            for (int i = 0; i < count; i++) body.accept(i);
            return;
        }
        try {
            t.run(new Job(body, count));
        } finally {
            t.busy.set(false);
        }
    }

    /** One call's work: indices handed out by a counter, and who waits for the last to finish. */
    private static final class Job {
        final IntConsumer body;
        final int count;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        volatile Thread waiter;
        volatile Throwable error;

        Job(IntConsumer body, int count) {
            this.body = body;
            this.count = count;
        }

        /** Takes indices until none are left; after a failure, the rest are counted as finished without running. */
        void work() {
            for (int i; (i = next.getAndIncrement()) < count; ) {
                if (error == null) {
                    try {
                        body.accept(i);
                    } catch (Throwable e) {
                        if (error == null) error = e;
                    }
                }
                if (finished.incrementAndGet() == count) {
                    Thread w = waiter;
                    if (w != null) LockSupport.unpark(w);
                }
            }
        }

        boolean done() {
            return finished.get() == count;
        }
    }

    private static final class Team {
        final int threads;
        final AtomicBoolean busy = new AtomicBoolean();
        private final Thread[] workers;
        private volatile Job job;
        private volatile boolean closed;

        Team(int threads) {
            this.threads = Math.max(1, threads);
            workers = new Thread[this.threads - 1];
            for (int w = 0; w < workers.length; w++) {
                workers[w] = Thread.ofPlatform().daemon().name("shears-kernel-" + (w + 1)).unstarted(this::loop);
                workers[w].start();
            }
        }

        void run(Job j) {
            job = j;
            for (Thread w : workers) LockSupport.unpark(w);
            j.work();
            long spinEnd = System.nanoTime() + SPIN_NANOS;
            while (!j.done() && System.nanoTime() < spinEnd) Thread.onSpinWait();
            if (!j.done()) {
                j.waiter = Thread.currentThread();
                while (!j.done()) LockSupport.park(this);
            }
            Throwable e = j.error;
            if (e instanceof RuntimeException r) throw r;
            if (e instanceof Error r) throw r;
            if (e != null) throw new IllegalStateException(e);
        }

        private void loop() {
            Job seen = null;
            while (!closed) {
                Job j = job;
                if (j != seen) {
                    seen = j;
                    j.work();
                    continue;
                }
                long spinEnd = System.nanoTime() + SPIN_NANOS;
                while (job == seen && !closed && System.nanoTime() < spinEnd) Thread.onSpinWait();
                if (job == seen && !closed) LockSupport.park(this);
            }
        }

        void close() {
            closed = true;
            for (Thread w : workers) LockSupport.unpark(w);
        }
    }
}
