package dev.shears.tensor;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ParallelTest {
    private final int before = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(before);
    }

    @Test
    void everyIndexRunsExactlyOnceForAnyThreadCount() {
        for (int threads : new int[] {1, 2, 3, 5}) {
            Parallel.setThreads(threads);
            for (int count : new int[] {1, 2, 7, 1000}) {
                for (int call = 0; call < 50; call++) { // many calls: workers park, spin and wake between them
                    AtomicIntegerArray hits = new AtomicIntegerArray(count);
                    Parallel.forEach(count, hits::incrementAndGet);
                    for (int i = 0; i < count; i++) assertEquals(1, hits.get(i), threads + " threads, count " + count + ", index " + i);
                }
            }
        }
    }

    @Test
    void workersWakeAfterParking() throws InterruptedException {
        Parallel.setThreads(3);
        for (int call = 0; call < 3; call++) {
            Thread.sleep(3 * Parallel.SPIN_NANOS / 1_000_000); // past the spin: the workers are parked
            AtomicIntegerArray hits = new AtomicIntegerArray(64);
            Parallel.forEach(64, i -> {
                hits.incrementAndGet(i);
                spin(100_000);
            });
            for (int i = 0; i < 64; i++) assertEquals(1, hits.get(i));
        }
    }

    @Test
    void theBodysOwnExceptionReachesTheCallerAndTheTeamKeepsWorking() {
        Parallel.setThreads(2);
        IllegalArgumentException thrown = new IllegalArgumentException("index 17");
        IllegalArgumentException caught = assertThrows(IllegalArgumentException.class, () -> Parallel.forEach(100, i -> {
            if (i == 17) throw thrown;
        }));
        assertSame(thrown, caught);
        AtomicIntegerArray hits = new AtomicIntegerArray(10);
        Parallel.forEach(10, hits::incrementAndGet);
        for (int i = 0; i < 10; i++) assertEquals(1, hits.get(i));
    }

    @Test
    void nestedAndConcurrentCallsRunOnTheirCaller() throws InterruptedException {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(8 * 8);
        Parallel.forEach(8, i -> Parallel.forEach(8, j -> hits.incrementAndGet(i * 8 + j)));
        for (int i = 0; i < 64; i++) assertEquals(1, hits.get(i));

        int callers = 4;
        AtomicIntegerArray all = new AtomicIntegerArray(callers * 500);
        CountDownLatch start = new CountDownLatch(1);
        Thread[] ts = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            int base = c * 500;
            ts[c] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int call = 0; call < 20; call++) Parallel.forEach(500, i -> all.incrementAndGet(base + i));
            });
            ts[c].start();
        }
        start.countDown();
        for (Thread t : ts) t.join(30_000);
        for (Thread t : ts) assertTrue(!t.isAlive(), "a concurrent caller did not finish");
        for (int i = 0; i < callers * 500; i++) assertEquals(20, all.get(i));
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) Thread.onSpinWait();
    }
}
