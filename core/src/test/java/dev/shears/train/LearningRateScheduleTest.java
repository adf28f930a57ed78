package dev.shears.train;

import dev.shears.ShearsException;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LearningRateScheduleTest {
    @Test
    void warmsUpLinearlyThenDecaysByCosineToTheMinimum() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 1e-4, 10, 110, LearningRateSchedule.Decay.COSINE);
        assertEquals(1e-4, s.at(0), 1e-15);
        assertEquals(1e-3, s.at(9), 1e-15);
        assertEquals(1e-3, s.at(10), 1e-15);
        assertEquals(1e-4 + 0.5 * (1e-3 - 1e-4), s.at(60), 1e-15, "half-way through the decay");
        assertEquals(1e-4, s.at(110), 1e-15);
    }

    /**
     * Issue 14: the stages of a pipeline can follow one schedule (warm-up once, one decay) instead of each
     * restarting warm-up and cosine: a run that starts at step k of a shared schedule of length n takes the
     * rates the whole schedule has at k, k + 1, …
     */
    @Test
    void runsThatShareOneScheduleTakeItsRatesInTurn() {
        TrainConfig.Schedule whole = new TrainConfig.Schedule(300, 0, 1e-3, 1e-4, 30, LearningRateSchedule.Decay.COSINE);
        LearningRateSchedule one = TrainConfig.DEFAULT.with(whole).learningRate();
        for (int stage = 0; stage < 3; stage++) {
            TrainConfig.Schedule part = new TrainConfig.Schedule(100, 0, 1e-3, 1e-4, 30, LearningRateSchedule.Decay.COSINE, stage * 100L, 300);
            LearningRateSchedule s = TrainConfig.DEFAULT.with(part).learningRate();
            for (int step = 0; step < 100; step++) assertEquals(one.at(stage * 100L + step), s.at(step), 0.0, "stage " + stage + " step " + step);
        }
        ShearsException past = assertThrows(ShearsException.class,
                () -> TrainConfig.DEFAULT.with(new TrainConfig.Schedule(100, 0, 1e-3, 1e-4, 30, LearningRateSchedule.Decay.COSINE, 250, 300)));
        assertTrue(past.getMessage().contains("run past scheduleSteps"), past.getMessage());
        for (List<Long> bad : List.of(List.of(-1L, 300L), List.of(10L, 0L))) {
            assertThrows(ShearsException.class, () -> new TrainConfig.Schedule(100, 0, 1e-3, 1e-4, 30, LearningRateSchedule.Decay.COSINE, bad.get(0), bad.get(1)));
        }
    }
}
