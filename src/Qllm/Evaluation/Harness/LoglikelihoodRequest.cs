namespace Qllm.Evaluation.Harness;

/// <summary>
/// One lm-evaluation-harness <c>loglikelihood</c> request: how likely is <see cref="Continuation"/> after
/// <see cref="Context"/>. Multiple-choice tasks make one per choice, the target delimiter already in the continuation.
/// </summary>
public sealed record LoglikelihoodRequest(string Context, string Continuation);

/// <summary>Σ log p(continuation tokens | context), and whether every continuation token is the argmax (lm-eval's is_greedy).</summary>
public readonly record struct LoglikelihoodResult(double LogLikelihood, bool IsGreedy);
