package dev.zoetrope.hub;

import java.io.IOException;

/** A download that cannot be done: the message says what (repo, revision, file) and what to do about it. */
public class HubException extends IOException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
