package dev.shears.objective;

import java.nio.file.Path;

/** {@link Seq2SeqCheckpoint} for a {@link T5Trainer}: format {@code shears-t5-checkpoint}, weights as a Hugging Face T5 folder. */
public final class T5Checkpoint {
    private T5Checkpoint() {
    }

    /** Puts a checkpoint of a T5 run back into {@code trainer} ({@link Seq2SeqCheckpoint#restore}). */
    public static void restore(Path dir, T5Trainer trainer) {
        Seq2SeqCheckpoint.restore(dir, trainer);
    }
}
