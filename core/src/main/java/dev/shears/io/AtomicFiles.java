package dev.shears.io;

import dev.shears.ShearsException;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a file to a temporary sibling, then moves it into place: readers never see half a file,
 * and a write that fails leaves neither a partial target nor a temporary file behind. A
 * {@link Batch} does the same for several files (a model folder): every file is written first, and
 * only when all succeeded are they moved into place.
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the content of one file. */
    @FunctionalInterface
    public interface Content {
        void writeTo(OutputStream out) throws IOException;
    }

    public static void write(Path path, Content content) {
        try (Batch batch = new Batch()) {
            batch.add(path, content);
            batch.commit();
        }
    }

    public static void writeString(Path path, String text) {
        write(path, out -> out.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /**
     * Files written to temporary siblings by {@link #add}, moved into place by {@link #commit} in the
     * order they were added; {@link #close} deletes whatever was not committed.
     */
    public static final class Batch implements AutoCloseable {
        private final Map<Path, Path> staged = new LinkedHashMap<>();

        /** Writes one file's content to a temporary sibling of {@code path}. */
        public void add(Path path, Content content) {
            Path target = path.toAbsolutePath().normalize();
            if (staged.containsKey(target)) throw new IllegalArgumentException(target + " is already in this batch");
            Path tmp = null;
            try {
                Files.createDirectories(target.getParent());
                tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp");
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                    content.writeTo(out);
                }
                readableByAll(tmp);
                staged.put(target, tmp);
                CrashPoints.reach("file written, not yet in place: " + target);
            } catch (IOException e) {
                deleteQuietly(tmp);
                throw new ShearsException(path + ": cannot write: " + e.getMessage(), e);
            } catch (RuntimeException | Error e) {
                deleteQuietly(tmp);
                throw e;
            }
        }

        /**
         * Moves every staged file into place. Targets that cannot be replaced by a file (folders)
         * are found before anything moves, so the common failures leave the old files untouched.
         */
        public void commit() {
            for (Path target : staged.keySet()) {
                if (Files.isDirectory(target)) throw new ShearsException(target + ": cannot write: a folder is in the way");
            }
            List<Path> done = new ArrayList<>();
            try {
                for (Map.Entry<Path, Path> e : staged.entrySet()) {
                    try {
                        move(e.getValue(), e.getKey());
                        CrashPoints.reach("file in place: " + e.getKey());
                    } catch (IOException failure) {
                        throw new ShearsException(e.getKey() + ": cannot move the written file into place: " + failure, failure);
                    }
                    done.add(e.getKey());
                }
            } finally {
                done.forEach(staged::remove);
            }
        }

        @Override
        public void close() {
            staged.values().forEach(AtomicFiles::deleteQuietly);
            staged.clear();
        }
    }

    /** Temporary files and folders are created owner-only; what they become is ordinary output (rw-r--r--, folders rwxr-xr-x). */
    public static void readableByAll(Path path) throws IOException {
        if (path.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(path, java.nio.file.attribute.PosixFilePermissions.fromString(Files.isDirectory(path) ? "rwxr-xr-x" : "rw-r--r--"));
        }
    }

    /** Renames atomically where the file system can, replacing the target. */
    public static void move(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // the temporary file is named as such
        }
    }

    /** Deletes a file or a folder with everything in it; nothing when it does not exist. */
    public static void deleteTree(Path path) throws IOException {
        if (!Files.exists(path)) return;
        try (java.util.stream.Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** {@link #deleteTree}, ignoring failure: for temporary folders, which are named as such and ignored by readers. */
    public static void deleteTreeQuietly(Path path) {
        try {
            deleteTree(path);
        } catch (IOException ignored) {
            // best effort
        }
    }

    /** Fills a folder. */
    @FunctionalInterface
    public interface FolderContent {
        void writeTo(Path folder) throws IOException;
    }

    /**
     * Builds an output folder under a temporary sibling name ({@code .NAME.partial-*}) and renames it into
     * place only when complete, so a crash or an error never leaves a half-written model where the output
     * should be. The target must be missing or empty (an empty folder is replaced).
     */
    public static void writeFolder(Path out, FolderContent content) {
        writeFolder(out, false, content);
    }

    /**
     * As {@link #writeFolder(Path, FolderContent)}; with {@code replace}, a non-empty target (a previous
     * output the user asked to replace) is moved aside only once the new folder is complete, then deleted.
     */
    public static void writeFolder(Path out, boolean replace, FolderContent content) {
        Path target = out.toAbsolutePath().normalize();
        if (!replace && !isMissingOrEmpty(target)) throw new ShearsException(out + ": already exists and is not empty; choose another --out");
        Path tmp = null;
        try {
            Files.createDirectories(target.getParent());
            removeStalePartials(target);
            tmp = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".partial-");
            content.writeTo(tmp);
            readableByAll(tmp);
            CrashPoints.reach("folder written, not yet in place: " + target);
            if (replace && !isMissingOrEmpty(target)) {
                Path old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".replaced-");
                Files.delete(old);
                move(target, old);
                CrashPoints.reach("previous folder moved aside: " + target);
                move(tmp, target);
                CrashPoints.reach("folder in place, previous one not yet deleted: " + target);
                deleteTreeQuietly(old);
                return;
            }
            if (!isMissingOrEmpty(target)) throw new ShearsException(out + ": was filled by someone else while it was being written");
            removeDebris(target);
            Files.deleteIfExists(target);
            move(tmp, target);
            CrashPoints.reach("folder in place: " + target);
        } catch (IOException e) {
            deleteTreeQuietly(tmp);
            throw new ShearsException(out + ": cannot write: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            if (tmp != null) deleteTreeQuietly(tmp);
            throw e;
        }
    }

    /**
     * Removes what an interrupted write of {@code target} left beside it ({@code .NAME.partial-*},
     * {@code .NAME.tmp-*}, {@code .NAME.replaced-*}): called when the same output is written again.
     */
    public static void removeStalePartials(Path target) {
        Path abs = target.toAbsolutePath().normalize();
        Path parent = abs.getParent();
        if (parent == null || !Files.isDirectory(parent)) return;
        String prefix = "." + abs.getFileName() + ".";
        try (java.util.stream.Stream<Path> s = Files.list(parent)) {
            s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(prefix + "partial-") || n.startsWith(prefix + "tmp-") || n.startsWith(prefix + "replaced-");
            }).forEach(AtomicFiles::deleteTreeQuietly);
        } catch (IOException e) {
            throw new ShearsException(parent + ": cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * What an interrupted write leaves: a file staged by {@link Batch} ({@code .NAME.DIGITS.tmp}) or a
     * folder being built ({@code .NAME.partial-*}, {@code .NAME.tmp-*} as checkpoints use,
     * {@code .NAME.replaced-*}). Nothing else is ever named so.
     */
    private static final java.util.regex.Pattern DEBRIS = java.util.regex.Pattern.compile("\\..+\\.(\\d+\\.tmp|(partial|tmp|replaced)-\\d+)");

    /** Whether a file or folder name is {@link #DEBRIS debris} of an interrupted write. */
    public static boolean isDebris(Path path) {
        return DEBRIS.matcher(path.getFileName().toString()).matches();
    }

    /** Removes every piece of debris of interrupted writes inside {@code dir} (at any depth); the complete files stay. */
    public static void removeDebris(Path dir) {
        if (!Files.isDirectory(dir)) return;
        try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
            // collected first: a debris folder is deleted whole, and its contents are not visited again
            List<Path> found = s.filter(p -> !p.equals(dir) && isDebris(p)).toList();
            for (Path p : found) deleteTreeQuietly(p);
        } catch (IOException | java.io.UncheckedIOException e) {
            throw new ShearsException(dir + ": cannot list: " + e.getMessage(), e);
        }
    }

    /**
     * Whether an output folder can be written without losing anything: it does not exist, or holds
     * nothing but {@link #isDebris debris} of an interrupted write.
     */
    public static boolean isMissingOrEmpty(Path dir) {
        if (!Files.exists(dir)) return true;
        try (java.util.stream.Stream<Path> s = Files.list(dir)) {
            return s.allMatch(AtomicFiles::isDebris);
        } catch (IOException e) {
            throw new ShearsException(dir + ": cannot read: " + e.getMessage(), e);
        }
    }
}
