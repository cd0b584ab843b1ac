namespace Qllm.Tokenizers;

/// <summary>
/// What the model (rather than the tokenizer file) says about tokenization. <see cref="ModelType"/> is
/// "llama", "opt" or "llama2.c"; the ids are used only where the tokenizer file itself does not decide them.
/// </summary>
public sealed record TokenizerHints(string? ModelType = null, int? BosId = null, int? EosId = null);
