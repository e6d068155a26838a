package dev.zoetrope.models.internvl;

import dev.zoetrope.models.tokenizer.Qwen2Tokenizer;
import dev.zoetrope.models.tokenizer.StreamDecoder;

import java.nio.file.Path;

/** InternVL2-1B's tokenizer (Qwen2 byte-level BPE with InternVL's added tokens) as chat uses it. */
public final class Qwen2ChatTokenizer implements ChatTokenizer, AutoCloseable {
    private final Qwen2Tokenizer tokenizer;
    private final int padId;

    public Qwen2ChatTokenizer(Qwen2Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
        // transformers' Qwen2Tokenizer pads with <|endoftext|> unless the folder names another pad token
        this.padId = tokenizer.padId() != null ? tokenizer.padId() : tokenizer.tokenId("<|endoftext|>");
    }

    /** The tokenizer files of a checkpoint folder (tokenizer.json, or vocab.json + merges.txt + added tokens). */
    public static Qwen2ChatTokenizer load(Path dir) {
        return new Qwen2ChatTokenizer(Qwen2Tokenizer.load(dir));
    }

    @Override
    public int[] encode(String text) {
        return tokenizer.encode(text);
    }

    @Override
    public String decode(int[] ids, boolean skipSpecialTokens) {
        return tokenizer.decode(ids, skipSpecialTokens);
    }

    @Override
    public int tokenId(String token) {
        return tokenizer.tokenId(token);
    }

    @Override
    public int padTokenId() {
        return padId;
    }

    @Override
    public TextStream textStream(boolean skipSpecialTokens) {
        StreamDecoder decoder = tokenizer.streamDecoder(skipSpecialTokens);
        return new TextStream() {
            @Override
            public String next(int id) {
                return decoder.next(id);
            }

            @Override
            public String finish() {
                return decoder.finish();
            }
        };
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
