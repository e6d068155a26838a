/**
 * Qwen2ForCausalLM (transformers {@code models/qwen2}) from its checkpoint names, standalone or as InternVL2-1B's
 * {@code language_model}.
 */
package dev.zoetrope.models.qwen2;
