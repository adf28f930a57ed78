package dev.shears.dist;

/** The collective of a run in one process: every operation is the identity, nothing is loaded. */
public final class SingleProcess implements Collective {
    @Override
    public int rank() {
        return 0;
    }

    @Override
    public int size() {
        return 1;
    }

    @Override
    public void allReduceSum(float[] values) {
    }

    @Override
    public void allReduceSum(double[] values) {
    }

    @Override
    public void broadcast(float[] values, int root) {
        checkRoot(root);
    }

    @Override
    public void broadcast(double[] values, int root) {
        checkRoot(root);
    }

    @Override
    public void broadcast(byte[] values, int root) {
        checkRoot(root);
    }

    @Override
    public void allGather(float[] mine, int offset, float[] all, int[] counts) {
        System.arraycopy(mine, offset, all, 0, counts[0]);
    }

    @Override
    public void allGather(double[] mine, int offset, double[] all, int[] counts) {
        System.arraycopy(mine, offset, all, 0, counts[0]);
    }

    @Override
    public void send(float[] values, int offset, int count, int dest) {
        throw new IllegalArgumentException("no rank " + dest + " in a single process");
    }

    @Override
    public void receive(float[] values, int offset, int count, int source) {
        throw new IllegalArgumentException("no rank " + source + " in a single process");
    }

    @Override
    public void send(double[] values, int offset, int count, int dest) {
        throw new IllegalArgumentException("no rank " + dest + " in a single process");
    }

    @Override
    public void receive(double[] values, int offset, int count, int source) {
        throw new IllegalArgumentException("no rank " + source + " in a single process");
    }

    @Override
    public void barrier() {
    }

    @Override
    public void abort(int code) {
        Runtime.getRuntime().halt(code);
    }

    @Override
    public void close() {
    }

    private static void checkRoot(int root) {
        if (root != 0) throw new IllegalArgumentException("root " + root + " of a single process");
    }
}
