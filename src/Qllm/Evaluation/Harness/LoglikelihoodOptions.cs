namespace Qllm.Evaluation.Harness;

/// <param name="BatchSize">Requests run through the model together, across groups (right-padded).</param>
/// <param name="ReusePrefix">Prefill a group's common token prefix once and run only the rest per request.</param>
/// <param name="AddBos">lm-eval's <c>add_bos_token</c>: prepend BOS when encoding (default False, as in HFLM).</param>
/// <param name="MaxLength">Window length for left truncation (default: the model's maximum positions, as HFLM's max_length).</param>
public sealed record LoglikelihoodOptions(int BatchSize = 8, bool ReusePrefix = true, bool AddBos = false, int? MaxLength = null);
