package dev.shears.io;

import dev.shears.ShearsException;

/**
 * Error messages that quote names read from a file (tensor names, metadata keys) stay one line and
 * short, whatever the file holds: control characters are escaped and very long messages cut.
 */
public final class Printable {
    private static final int MAX = 600;

    private Printable() {
    }

    public static String line(String message) {
        StringBuilder out = new StringBuilder(Math.min(message.length(), MAX + 8));
        for (int i = 0; i < message.length(); i++) {
            if (out.length() >= MAX) {
                out.append(" …");
                break;
            }
            char c = message.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') out.append(String.format("\\u%04x", (int) c));
            else out.append(c);
        }
        return out.toString();
    }

    public static ShearsException error(String message) {
        return new ShearsException(line(message));
    }

    public static ShearsException error(String message, Throwable cause) {
        return new ShearsException(line(message), cause);
    }
}
