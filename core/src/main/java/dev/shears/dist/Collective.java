package dev.shears.dist;

import java.util.Map;

/**
 * The ranks of a run and what they do together: sums, broadcasts and gathers over all ranks, in the
 * calling thread (the one that opened it). A run picks its collective once at startup with
 * {@link #fromEnvironment}: {@link SingleProcess} when the process was not started by {@code mpirun}
 * (nothing is loaded, no MPI library need exist), {@link Mpi} when it was. Every rank calls the same
 * collectives in the same order with the same sizes, as MPI requires; rank 0 alone writes files and
 * prints ({@link #leads()}).
 *
 * <p>Order: {@link #allReduceSum} adds in an order the MPI library picks, which may depend on the
 * number of ranks; results that must be the same bits for any number of ranks gather the ranks'
 * partial sums along the ranks in a fixed order instead ({@link OrderedSum}).
 */
public interface Collective extends AutoCloseable {
    /** The environment variable {@code mpirun} sets in every rank: the number of ranks. */
    String WORLD_SIZE = "OMPI_COMM_WORLD_SIZE";
    /** The environment variable {@code mpirun} sets in every rank: this rank. */
    String WORLD_RANK = "OMPI_COMM_WORLD_RANK";

    /** This process's rank, 0 ≤ rank &lt; size. */
    int rank();

    /** The number of ranks. */
    int size();

    /** Whether this rank writes the run's files and prints its results: rank 0. */
    default boolean leads() {
        return rank() == 0;
    }

    /** Replaces {@code values} on every rank by their element-wise sum over the ranks (in MPI's order). */
    void allReduceSum(float[] values);

    /** Replaces {@code values} on every rank by their element-wise sum over the ranks (in MPI's order). */
    void allReduceSum(double[] values);

    /** Copies {@code values} of rank {@code root} into {@code values} of every other rank. */
    void broadcast(float[] values, int root);

    /** Copies {@code values} of rank {@code root} into {@code values} of every other rank. */
    void broadcast(double[] values, int root);

    /** Copies {@code values} of rank {@code root} into {@code values} of every other rank. */
    void broadcast(byte[] values, int root);

    /**
     * Every rank's part, concatenated in rank order, on every rank ({@code MPI_Allgatherv}).
     *
     * @param mine   this rank's part: {@code counts[rank()]} values from {@code offset}
     * @param all    [sum of counts], receives rank 0's part, then rank 1's, ...
     * @param counts [size()], the length of each rank's part, the same on every rank
     */
    void allGather(float[] mine, int offset, float[] all, int[] counts);

    /** {@link #allGather(float[], int, float[], int[])} for doubles. */
    void allGather(double[] mine, int offset, double[] all, int[] counts);

    /** Sends {@code count} values from {@code offset} to rank {@code dest}, which receives them with {@link #receive} (blocking). */
    void send(float[] values, int offset, int count, int dest);

    /** Receives {@code count} values into {@code values} from {@code offset}, sent by rank {@code source} with {@link #send} (blocking). */
    void receive(float[] values, int offset, int count, int source);

    /** {@link #send(float[], int, int, int)} for doubles. */
    void send(double[] values, int offset, int count, int dest);

    /** {@link #receive(float[], int, int, int)} for doubles. */
    void receive(double[] values, int offset, int count, int source);

    /** Returns when every rank has called it. */
    void barrier();

    /** Ends every rank's process with {@code code} (a rank that failed calls it so that no other rank waits forever). */
    void abort(int code);

    /** Ends this rank's part in the collective (after the last collective call). */
    @Override
    void close();

    /**
     * The collective of this process: {@link Mpi} when {@code mpirun} started it ({@value #WORLD_SIZE}
     * set), else {@link SingleProcess}. Open MPI's library is looked up by {@link Mpi#LIBRARY_PROPERTY}
     * or {@link Mpi#LIBRARY_VARIABLE}, else by its usual names.
     */
    static Collective fromEnvironment() {
        return fromEnvironment(System.getenv(), System.getProperty(Mpi.LIBRARY_PROPERTY));
    }

    /** As {@link #fromEnvironment()}, with the environment and the library property given. */
    static Collective fromEnvironment(Map<String, String> env, String libraryProperty) {
        if (env.get(WORLD_SIZE) == null) return new SingleProcess();
        String library = libraryProperty != null && !libraryProperty.isBlank() ? libraryProperty : env.get(Mpi.LIBRARY_VARIABLE);
        return Mpi.open(library);
    }
}
