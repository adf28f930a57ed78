package dev.shears.io;

import dev.shears.ShearsException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The one rule every command's output follows: it never destroys an input, and never replaces
 * anything that was there unless the user asked for it ({@code --force}, which replaces a previous
 * output and never an input). Checked before any work.
 */
public final class Outputs {
    private Outputs() {
    }

    /**
     * Refuses {@code out} when it is one of the inputs, lies inside one (a folder model), or holds one:
     * writing it would overwrite or delete what the command reads.
     *
     * @param inputs what the command reads (absent ones are skipped)
     */
    @SafeVarargs
    public static void checkNotAnInput(Path out, Optional<Path>... inputs) {
        Path o = canonical(out);
        for (Optional<Path> input : inputs) {
            if (input.isEmpty()) continue;
            Path in = canonical(input.get());
            if (o.equals(in) || o.startsWith(in) || in.startsWith(o)) {
                throw new ShearsException(out + ": is " + (o.equals(in) ? "" : o.startsWith(in) ? "inside " : "around ") + "the input "
                        + input.get() + "; writing there would destroy it, choose another --out");
            }
        }
    }

    /** {@link #checkNotAnInput} for inputs that are always given. */
    public static void checkNotAnInput(Path out, Path... inputs) {
        for (Path in : inputs) checkNotAnInput(out, Optional.of(in));
    }

    /**
     * Refuses an existing output file unless {@code force}: a file output is replaced only on request
     * (and then atomically, by the writer).
     */
    public static void checkFileFree(Path out, boolean force) {
        if (Files.isDirectory(out)) throw new ShearsException(out + ": is a folder; this output is one file");
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !force) {
            throw new ShearsException(out + ": already exists; choose another --out, or pass --force to replace it");
        }
    }

    /**
     * Refuses an existing non-empty output folder unless {@code force}; the writer then replaces it
     * only once the new content is complete ({@link AtomicFiles#writeFolder(Path, boolean, AtomicFiles.FolderContent)}).
     */
    public static void checkFolderFree(Path out, boolean force) {
        if (Files.isRegularFile(out)) throw new ShearsException(out + ": is a file; this output is a folder");
        if (AtomicFiles.isMissingOrEmpty(out)) return;
        if (!force) throw new ShearsException(out + ": already exists and is not empty; choose another --out, or pass --force to replace it");
    }

    /**
     * Refuses to start writing {@code bytes} into {@code out} when its file system has less room: a
     * write that cannot finish would only fill the disk (a partial output is never kept anyway).
     */
    public static void checkSpace(Path out, long bytes) {
        Path existing = existingAncestor(out.toAbsolutePath().normalize());
        try {
            long free = Files.getFileStore(existing).getUsableSpace();
            if (bytes > free) {
                throw new ShearsException(out + ": needs " + gigabytes(bytes) + " of disk, " + existing + " has " + gigabytes(free) + " free");
            }
        } catch (IOException e) {
            throw new ShearsException(out + ": cannot tell the free disk space: " + e.getMessage(), e);
        }
    }

    private static String gigabytes(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f GB", bytes / 1e9);
    }

    /** The path with links resolved where it exists (so {@code ./m} and {@code m/} and a symlink to m are the same). */
    private static Path canonical(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = existingAncestor(abs);
        try {
            return existing.toRealPath().resolve(existing.relativize(abs)).normalize();
        } catch (IOException e) {
            return abs;
        }
    }

    /** The path itself if it exists, else its nearest existing ancestor. */
    private static Path existingAncestor(Path abs) {
        Path existing = abs;
        while (existing.getParent() != null && !Files.exists(existing)) existing = existing.getParent();
        return existing;
    }
}
