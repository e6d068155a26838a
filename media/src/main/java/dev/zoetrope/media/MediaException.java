package dev.zoetrope.media;

/** An image or video that cannot be read or written; the message names the file and what was wrong. */
public class MediaException extends RuntimeException {
    public MediaException(String message) {
        super(message);
    }

    public MediaException(String message, Throwable cause) {
        super(message, cause);
    }
}
