package dev.shears.data;

/** How a plain-text input file is cut into documents (JSONL inputs are one document per line). */
public enum DocumentSplit {
    /** The whole file is one document. */
    FILE,
    /** Documents are separated by one or more blank lines. */
    PARAGRAPH,
    /** Every non-empty line is a document. */
    LINE
}
