package dev.shears.cli;

import dev.shears.recipe.MemoryPlan;

/**
 * A command that can say what it will hold at its peak before running, from its options and the
 * model's headers: the launcher asks ({@code --heap-plan}) and sizes the JVM's heap from the answer.
 */
interface Planned {
    /** What one of {@code ranks} processes started by {@code mpirun} will hold (1: one process). */
    MemoryPlan plan(int ranks);
}
