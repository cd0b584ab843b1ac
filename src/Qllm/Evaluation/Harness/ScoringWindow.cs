namespace Qllm.Evaluation.Harness;

/// <summary>
/// What the model runs for one request, as lm-eval's <c>_loglikelihood_tokens</c> builds it: the last
/// maxLength + 1 tokens of context + continuation (left truncation), less the final token. The model's
/// outputs at the last <see cref="ScoredCount"/> input positions predict the continuation tokens.
/// </summary>
public sealed class ScoringWindow
{
    private ScoringWindow(int[] input, int[] targets)
    {
        Input = input;
        Targets = targets;
    }

    /// <summary>The tokens fed to the model.</summary>
    public int[] Input { get; }

    /// <summary>The continuation tokens, predicted by the last <see cref="ScoredCount"/> positions of <see cref="Input"/>.</summary>
    public int[] Targets { get; }

    public int ScoredCount => Targets.Length;

    /// <summary>The first input position whose output is scored.</summary>
    public int FirstScoredPosition => Input.Length - Targets.Length;

    public static ScoringWindow Of(EncodedRequest request, int maxLength)
    {
        // lm-eval asserts len(continuation) <= max_length and stops the run; here an over-long continuation keeps
        // the window's last max_length tokens as targets (its first tokens, which no window can hold, go unscored).
        int total = request.Context.Length + request.Continuation.Length;
        int start = Math.Max(0, total - (maxLength + 1));
        var input = new int[total - 1 - start];
        for (int i = 0; i < input.Length; i++)
        {
            int at = start + i;
            input[i] = at < request.Context.Length ? request.Context[at] : request.Continuation[at - request.Context.Length];
        }
        return new ScoringWindow(input, request.Continuation[Math.Max(0, request.Continuation.Length - maxLength)..]);
    }
}
