package dev.zoetrope.cli;

/** A problem with the user's input, reported as one line without a stack trace. */
public class UserError extends RuntimeException {
    public UserError(String message) {
        super(message);
    }
}
