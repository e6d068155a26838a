package dev.zoetrope.models.tokenizer;

import dev.zoetrope.core.CheckpointException;

/**
 * A tokenizer folder or file that cannot be used (missing file, malformed JSON, a merge line that is not two
 * symbols, a special token the vocabulary lacks, ...). The message names the file and what was expected.
 */
public class TokenizerException extends CheckpointException {
    public TokenizerException(String message) {
        super(message);
    }

    public TokenizerException(String message, Throwable cause) {
        super(message, cause);
    }
}
