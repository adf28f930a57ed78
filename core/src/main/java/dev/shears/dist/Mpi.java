package dev.shears.dist;

import dev.shears.ShearsException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The collective of a run started by {@code mpirun}: Open MPI's C library ({@code libmpi.so.40},
 * Open MPI 4.x) called through {@code java.lang.foreign}, no JNI and no jar. Open MPI's handles are
 * the addresses of its global objects: {@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world},
 * {@code MPI_FLOAT} {@code &ompi_mpi_float}, {@code MPI_SUM} {@code &ompi_mpi_op_sum}, and
 * {@code MPI_IN_PLACE} is {@code (void *) 1} (Open MPI's {@code mpi.h}). MPI is initialised with
 * {@code MPI_THREAD_FUNNELED}: only the thread that opened it calls MPI (kernel threads never do).
 * Arrays travel through native memory of a confined arena per call, in chunks of at most
 * {@value #CHUNK} elements.
 */
public final class Mpi implements Collective {
    /** The system property naming the MPI library to load (a path or a library name). */
    public static final String LIBRARY_PROPERTY = "shears.mpi.library";
    /** The environment variable naming the MPI library to load, when the property is not set. */
    public static final String LIBRARY_VARIABLE = "SHEARS_MPI_LIBRARY";
    /** The names tried when neither names a library: Debian's libopenmpi3 soname, then the development link. */
    static final List<String> LIBRARY_NAMES = List.of("libmpi.so.40", "libmpi.so");
    /** {@code MPI_THREAD_FUNNELED} in Open MPI's {@code mpi.h} (SINGLE 0, FUNNELED 1, SERIALIZED 2, MULTIPLE 3). */
    private static final int THREAD_FUNNELED = 1;
    /** Elements per native copy: bounds the native memory of one call (256 MiB of floats). */
    static final int CHUNK = 1 << 26;
    /** The tag of every point-to-point message: sends and receives pair up in program order. */
    private static final int TAG = 17;

    private final Thread owner;
    private final MemorySegment world, floatType, doubleType, byteType, sum;
    private final MethodHandle allreduce, bcast, allgatherv, send, recv, barrier, abort, finalizeHandle;
    private final int rank, size;
    private boolean closed;

    private Mpi(SymbolLookup lib) {
        Linker linker = Linker.nativeLinker();
        world = symbol(lib, "ompi_mpi_comm_world");
        floatType = symbol(lib, "ompi_mpi_float");
        doubleType = symbol(lib, "ompi_mpi_double");
        byteType = symbol(lib, "ompi_mpi_byte");
        sum = symbol(lib, "ompi_mpi_op_sum");
        MethodHandle init = function(linker, lib, "MPI_Init_thread", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
        MethodHandle commRank = function(linker, lib, "MPI_Comm_rank", JAVA_INT, ADDRESS, ADDRESS);
        MethodHandle commSize = function(linker, lib, "MPI_Comm_size", JAVA_INT, ADDRESS, ADDRESS);
        allreduce = function(linker, lib, "MPI_Allreduce", JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS);
        bcast = function(linker, lib, "MPI_Bcast", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS);
        allgatherv = function(linker, lib, "MPI_Allgatherv", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        send = function(linker, lib, "MPI_Send", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
        recv = function(linker, lib, "MPI_Recv", JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        barrier = function(linker, lib, "MPI_Barrier", JAVA_INT, ADDRESS);
        abort = function(linker, lib, "MPI_Abort", JAVA_INT, ADDRESS, JAVA_INT);
        finalizeHandle = function(linker, lib, "MPI_Finalize", JAVA_INT);
        owner = Thread.currentThread();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_INT);
            check("MPI_Init_thread", (int) init.invokeExact(MemorySegment.NULL, MemorySegment.NULL, THREAD_FUNNELED, out));
            if (out.get(JAVA_INT, 0) < THREAD_FUNNELED) {
                throw new ShearsException("Open MPI provides thread level " + out.get(JAVA_INT, 0) + ", Shears needs MPI_THREAD_FUNNELED");
            }
            check("MPI_Comm_rank", (int) commRank.invokeExact(world, out));
            rank = out.get(JAVA_INT, 0);
            check("MPI_Comm_size", (int) commSize.invokeExact(world, out));
            size = out.get(JAVA_INT, 0);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("MPI_Init_thread: " + t, t);
        }
    }

    /**
     * Loads Open MPI's library ({@code library}, a path or name, when not null; else {@link #LIBRARY_NAMES})
     * and initialises MPI. Fails in one line when the library cannot be loaded.
     */
    public static Mpi open(String library) {
        List<String> names = library != null && !library.isBlank() ? List.of(library) : LIBRARY_NAMES;
        Optional<SymbolLookup> lib = load(names);
        if (lib.isEmpty()) {
            throw new ShearsException("started by mpirun, but Open MPI's library cannot be loaded (tried " + String.join(", ", names)
                    + "): install openmpi-bin and libopenmpi-dev, or name libmpi.so with " + LIBRARY_VARIABLE + " or -D" + LIBRARY_PROPERTY);
        }
        return new Mpi(lib.get());
    }

    /** The first of {@code names} that the dynamic linker loads (a name with a slash is a path). */
    static Optional<SymbolLookup> load(List<String> names) {
        for (String name : names) {
            try {
                return Optional.of(name.contains("/") ? SymbolLookup.libraryLookup(Path.of(name), Arena.global())
                        : SymbolLookup.libraryLookup(name, Arena.global()));
            } catch (IllegalArgumentException e) {
                // not found: try the next name
            }
        }
        return Optional.empty();
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public void allReduceSum(float[] values) {
        inPlace("MPI_Allreduce", MemorySegment.ofArray(values), values.length, ValueLayout.JAVA_FLOAT,
                (buf, n) -> (int) allreduce.invokeExact(MemorySegment.ofAddress(1), buf, n, floatType, sum, world)); // MPI_IN_PLACE
    }

    @Override
    public void allReduceSum(double[] values) {
        inPlace("MPI_Allreduce", MemorySegment.ofArray(values), values.length, ValueLayout.JAVA_DOUBLE,
                (buf, n) -> (int) allreduce.invokeExact(MemorySegment.ofAddress(1), buf, n, doubleType, sum, world)); // MPI_IN_PLACE
    }

    @Override
    public void broadcast(float[] values, int root) {
        inPlace("MPI_Bcast", MemorySegment.ofArray(values), values.length, ValueLayout.JAVA_FLOAT,
                (buf, n) -> (int) bcast.invokeExact(buf, n, floatType, root, world));
    }

    @Override
    public void broadcast(double[] values, int root) {
        inPlace("MPI_Bcast", MemorySegment.ofArray(values), values.length, ValueLayout.JAVA_DOUBLE,
                (buf, n) -> (int) bcast.invokeExact(buf, n, doubleType, root, world));
    }

    @Override
    public void broadcast(byte[] values, int root) {
        inPlace("MPI_Bcast", MemorySegment.ofArray(values), values.length, ValueLayout.JAVA_BYTE,
                (buf, n) -> (int) bcast.invokeExact(buf, n, byteType, root, world));
    }

    /** One MPI call on a native buffer of at most {@value #CHUNK} elements, returning its error code. */
    @FunctionalInterface
    private interface Call {
        int on(MemorySegment buffer, int count) throws Throwable;
    }

    /** {@code call} on {@code values} in chunks: each copied into native memory, passed to MPI, copied back. */
    private void inPlace(String function, MemorySegment values, int length, ValueLayout element, Call call) {
        checkThread();
        long bytes = element.byteSize();
        for (int from = 0; from < length; from += CHUNK) {
            int n = Math.min(CHUNK, length - from);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(element, n);
                MemorySegment.copy(values, from * bytes, buf, 0, n * bytes);
                check(function, call.on(buf, n));
                MemorySegment.copy(buf, 0, values, from * bytes, n * bytes);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw failed(function, t);
            }
        }
    }

    @Override
    public void allGather(float[] mine, int offset, float[] all, int[] counts) {
        gather(MemorySegment.ofArray(mine), offset, MemorySegment.ofArray(all), counts, ValueLayout.JAVA_FLOAT, floatType);
    }

    @Override
    public void allGather(double[] mine, int offset, double[] all, int[] counts) {
        gather(MemorySegment.ofArray(mine), offset, MemorySegment.ofArray(all), counts, ValueLayout.JAVA_DOUBLE, doubleType);
    }

    private void gather(MemorySegment mine, int offset, MemorySegment all, int[] counts, ValueLayout element, MemorySegment type) {
        checkThread();
        if (counts.length != size) throw new IllegalArgumentException(counts.length + " counts for " + size + " ranks");
        long total = 0;
        for (int c : counts) total += c;
        if (total > Integer.MAX_VALUE) throw new IllegalArgumentException("a gather of " + total + " elements; gather in parts");
        long bytes = element.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment send = arena.allocate(element, Math.max(1, counts[rank]));
            MemorySegment.copy(mine, offset * bytes, send, 0, counts[rank] * bytes);
            MemorySegment recv = arena.allocate(element, Math.max(1, total));
            MemorySegment countSeg = arena.allocateFrom(JAVA_INT, counts);
            int[] displacements = new int[size];
            for (int r = 1; r < size; r++) displacements[r] = displacements[r - 1] + counts[r - 1];
            MemorySegment displacementSeg = arena.allocateFrom(JAVA_INT, displacements);
            check("MPI_Allgatherv", (int) allgatherv.invokeExact(send, counts[rank], type, recv, countSeg, displacementSeg, type, world));
            MemorySegment.copy(recv, 0, all, 0, total * bytes);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw failed("MPI_Allgatherv", t);
        }
    }

    @Override
    public void send(float[] values, int offset, int count, int dest) {
        Objects.checkFromIndexSize(offset, count, values.length);
        pointToPoint(send, MemorySegment.ofArray(values), offset, count, ValueLayout.JAVA_FLOAT, floatType, dest);
    }

    @Override
    public void receive(float[] values, int offset, int count, int source) {
        Objects.checkFromIndexSize(offset, count, values.length);
        pointToPoint(recv, MemorySegment.ofArray(values), offset, count, ValueLayout.JAVA_FLOAT, floatType, source);
    }

    @Override
    public void send(double[] values, int offset, int count, int dest) {
        Objects.checkFromIndexSize(offset, count, values.length);
        pointToPoint(send, MemorySegment.ofArray(values), offset, count, ValueLayout.JAVA_DOUBLE, doubleType, dest);
    }

    @Override
    public void receive(double[] values, int offset, int count, int source) {
        Objects.checkFromIndexSize(offset, count, values.length);
        pointToPoint(recv, MemorySegment.ofArray(values), offset, count, ValueLayout.JAVA_DOUBLE, doubleType, source);
    }

    /** MPI_Send ({@code function == send}) or MPI_Recv of {@code count} elements of {@code values} from {@code offset}. */
    private void pointToPoint(MethodHandle function, MemorySegment values, int offset, int count, ValueLayout element, MemorySegment type, int peer) {
        checkThread();
        long bytes = element.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(element, Math.max(1, count));
            if (function == send) {
                MemorySegment.copy(values, offset * bytes, buf, 0, count * bytes);
                check("MPI_Send", (int) send.invokeExact(buf, count, type, peer, TAG, world));
            } else {
                // MPI_STATUS_IGNORE is (MPI_Status *) 0 in Open MPI's mpi.h
                check("MPI_Recv", (int) recv.invokeExact(buf, count, type, peer, TAG, world, MemorySegment.NULL));
                MemorySegment.copy(buf, 0, values, offset * bytes, count * bytes);
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw failed(function == send ? "MPI_Send" : "MPI_Recv", t);
        }
    }

    @Override
    public void barrier() {
        checkThread();
        try {
            check("MPI_Barrier", (int) barrier.invokeExact(world));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw failed("MPI_Barrier", t);
        }
    }

    @Override
    public void abort(int code) {
        try {
            int unreached = (int) abort.invokeExact(world, code);
        } catch (Throwable t) {
            // MPI_Abort does not return; if it does, end this process anyway
        }
        Runtime.getRuntime().halt(code);
    }

    @Override
    public void close() {
        if (closed) return;
        checkThread();
        closed = true;
        try {
            check("MPI_Finalize", (int) finalizeHandle.invokeExact());
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw failed("MPI_Finalize", t);
        }
    }

    private void checkThread() {
        if (closed) throw new IllegalStateException("MPI is finalised");
        if (Thread.currentThread() != owner) {
            throw new IllegalStateException("MPI called from " + Thread.currentThread().getName() + ", opened by " + owner.getName()
                    + " (MPI_THREAD_FUNNELED)");
        }
    }

    private static void check(String function, int code) {
        if (code != 0) throw new IllegalStateException(function + " failed with MPI error " + code);
    }

    private static IllegalStateException failed(String function, Throwable t) {
        return new IllegalStateException(function + ": " + t, t);
    }

    private static MemorySegment symbol(SymbolLookup lib, String name) {
        return lib.find(name).orElseThrow(() -> new ShearsException("the MPI library has no " + name + ": Shears needs Open MPI 4 (libmpi.so.40)"));
    }

    private static MethodHandle function(Linker linker, SymbolLookup lib, String name, ValueLayout result, ValueLayout... args) {
        return linker.downcallHandle(symbol(lib, name), FunctionDescriptor.of(result, args));
    }
}
