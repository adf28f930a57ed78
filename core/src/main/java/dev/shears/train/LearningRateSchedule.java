package dev.shears.train;

/**
 * Linear warm-up from 0, then cosine or linear decay to {@code minLr} at {@code totalSteps}
 * (the nanoGPT / Chinchilla schedule).
 *
 * @param maxLr       the peak learning rate, reached at the end of warm-up
 * @param minLr       the final learning rate
 * @param warmupSteps steps of linear warm-up
 * @param totalSteps  the step at which decay ends
 * @param decay       the shape after warm-up
 * @param offset      steps of this schedule taken before the run's step 0 (a schedule shared by several runs)
 */
public record LearningRateSchedule(double maxLr, double minLr, long warmupSteps, long totalSteps, Decay decay, long offset) {
    /** How the learning rate falls after warm-up. */
    public enum Decay { COSINE, LINEAR, CONSTANT }

    /** A schedule that the run starts. */
    public LearningRateSchedule(double maxLr, double minLr, long warmupSteps, long totalSteps, Decay decay) {
        this(maxLr, minLr, warmupSteps, totalSteps, decay, 0);
    }

    public LearningRateSchedule {
        if (!(maxLr > 0)) throw new IllegalArgumentException("max learning rate must be positive, got " + maxLr);
        if (!(minLr >= 0 && minLr <= maxLr)) throw new IllegalArgumentException("min learning rate must be in [0, max], got " + minLr);
        if (warmupSteps < 0 || totalSteps < 1) throw new IllegalArgumentException("warm-up " + warmupSteps + ", total " + totalSteps);
    }

    /** The learning rate of the run's step {@code run} (0-based): the schedule's at {@code offset + run}. */
    public double at(long run) {
        long step = offset + run;
        if (step < warmupSteps) return maxLr * (step + 1) / warmupSteps;
        if (decay == Decay.CONSTANT || step >= totalSteps) return decay == Decay.CONSTANT ? maxLr : minLr;
        double progress = (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
        double coefficient = decay == Decay.COSINE ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress;
        return minLr + coefficient * (maxLr - minLr);
    }
}
