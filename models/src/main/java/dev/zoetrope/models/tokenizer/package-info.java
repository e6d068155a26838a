/**
 * Tokenizers of the supported model families, id-exact with transformers 5 (tokenizers backend):
 * {@link dev.zoetrope.models.tokenizer.ClipTokenizer} (Stable Diffusion, I2VGen-XL, ModelScope text encoders),
 * {@link dev.zoetrope.models.tokenizer.Qwen2Tokenizer} (Qwen2 / InternVL2 language models, with
 * {@link dev.zoetrope.models.tokenizer.StreamDecoder} for streamed generation) and
 * {@link dev.zoetrope.models.tokenizer.T5Tokenizer} (Latte / PixArt text encoders).
 *
 * <p>Each loads a Hugging Face {@code tokenizer/} folder. The tokenization itself runs in the Hugging Face
 * {@code tokenizers} library (Rust) through DJL's JNI binding, whose native library ships inside the DJL jar
 * (no download). Folders without a tokenizer.json (most SD and InternVL2 repositories) get one built in memory
 * from vocab.json + merges.txt the way transformers' slow-to-fast converters build it
 * ({@link dev.zoetrope.models.tokenizer.TokenizerJsonBuilder}).
 */
package dev.zoetrope.models.tokenizer;
