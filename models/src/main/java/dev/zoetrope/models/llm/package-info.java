/**
 * Decoder-only language-model machinery shared by the LLM families: the {@link
 * dev.zoetrope.models.llm.CausalLanguageModel} contract, the {@link dev.zoetrope.models.llm.KvCache} (left padding,
 * positions, reuse across rounds), and generation as transformers' {@code generate} does it for one beam
 * ({@link dev.zoetrope.models.llm.Generator}, {@link dev.zoetrope.models.llm.LogitsProcessing}); sampling draws
 * {@code torch.multinomial} from a {@link dev.zoetrope.core.noise.TorchGenerator}. {@link
 * dev.zoetrope.models.llm.WidenedWeights} keeps F32 copies of a model's small weight vectors for the decode loop.
 */
package dev.zoetrope.models.llm;
