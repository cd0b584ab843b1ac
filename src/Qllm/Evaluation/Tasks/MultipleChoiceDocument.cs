using Qllm.Evaluation.Harness;

namespace Qllm.Evaluation.Tasks;

/// <summary>
/// A multiple_choice document as lm-eval builds its requests: one (context, target_delimiter + choice) request per
/// choice, or, for partial scoring (WinoGrande), one (context_i, shared continuation) per option. <see cref="Choices"/>
/// are the doc_to_choice strings whose lengths normalise acc_norm.
/// </summary>
public sealed record MultipleChoiceDocument(IReadOnlyList<LoglikelihoodRequest> Requests, int Gold, IReadOnlyList<string> Choices)
{
    /// <summary>lm-eval's default: the same context for every choice, each continuation " " + choice.</summary>
    public static MultipleChoiceDocument SharedContext(string context, IReadOnlyList<string> choices, int gold, string delimiter = " ") =>
        new(choices.Select(c => new LoglikelihoodRequest(context, delimiter + c)).ToArray(), gold, choices);
}
