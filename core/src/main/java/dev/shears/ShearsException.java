package dev.shears;

/**
 * A problem caused by the user's input (a malformed file, an impossible option, a missing tensor),
 * as opposed to a bug. The command line prints its message on one line and exits with code 2,
 * without a stack trace, so the message must name the file, the position and the problem.
 */
public class ShearsException extends RuntimeException {
    public ShearsException(String message) {
        super(message);
    }

    public ShearsException(String message, Throwable cause) {
        super(message, cause);
    }
}
