package dev.shears.cli;

/**
 * A command that runs under {@code mpirun}: its ranks share the work through the {@link Main#collective()}
 * and rank 0 alone writes. Any other command started by {@code mpirun} with more than one rank is refused
 * in one line, since every rank would do the whole job and write the same files.
 */
interface Distributed {
}
