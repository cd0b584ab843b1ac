using Qllm.Common;
using Qllm.Tokenizers;

namespace Qllm.Evaluation.Harness;

/// <summary>A request as token ids: the context and the continuation whose tokens are scored.</summary>
public sealed record EncodedRequest(int[] Context, int[] Continuation);

/// <summary>
/// Tokenizes requests as lm-evaluation-harness v0.4's HFLM does (<c>loglikelihood</c> and <c>_encode_pair</c>):
/// <list type="bullet">
/// <item>trailing whitespace of the context moves to the front of the continuation;</item>
/// <item>whole = encode(context + continuation), context = encode(context), continuation = whole[len(context):],
/// so the continuation's first token is the one the tokenizer makes at the boundary of the joined text;</item>
/// <item>no BOS unless <c>addBos</c> (HFLM's <c>add_bos_token</c>, default False: <c>tok_encode</c> passes
/// <c>add_special_tokens=False</c> for causal models);</item>
/// <item>an empty context becomes the one token <c>prefix_token_id</c>: BOS, else EOS.</item>
/// </list>
/// </summary>
public sealed class RequestEncoder(ITextTokenizer tokenizer, bool addBos = false)
{
    public EncodedRequest Encode(LoglikelihoodRequest request)
    {
        string context = request.Context, continuation = request.Continuation;
        if (context.Length == 0)
        {
            int prefix = tokenizer.BosId ?? tokenizer.EosId
                ?? throw new QllmException("an empty context needs a BOS or EOS token, and the tokenizer has neither.");
            return Checked(request, [prefix], tokenizer.Encode(continuation, addBos));
        }
        int spaces = context.Length - context.TrimEnd().Length;
        if (spaces > 0)
        {
            continuation = context[^spaces..] + continuation;
            context = context[..^spaces];
        }
        int[] whole = tokenizer.Encode(context + continuation, addBos);
        int[] contextTokens = tokenizer.Encode(context, addBos);
        return Checked(request, contextTokens, whole[Math.Min(contextTokens.Length, whole.Length)..]);
    }

    private static EncodedRequest Checked(LoglikelihoodRequest request, int[] context, int[] continuation) =>
        continuation.Length > 0
            ? new EncodedRequest(context, continuation)
            : throw new QllmException($"the continuation '{request.Continuation}' encodes to no tokens after the context '{Tail(request.Context)}'.");

    private static string Tail(string text) => text.Length <= 40 ? text : "…" + text[^40..];
}
