package dev.shears.data;

/** The parts of a prepared token folder. */
public enum Split {
    TRAIN("train"), HELDOUT("heldout");

    /** The name used in file names and the index. */
    public final String key;

    Split(String key) {
        this.key = key;
    }
}
