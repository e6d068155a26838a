package dev.zoetrope.core;

/**
 * A checkpoint or weight file that cannot be used: names the file and, where there is one, the tensor, and
 * says what was expected. Loaders throw it instead of letting a low-level error surface.
 */
public class CheckpointException extends RuntimeException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
