// TEMPORARY minimal loader (llama2.c only) until the tokenizer branch lands.
using Qllm.Common;
namespace Qllm.Tokenizers;
public sealed record TokenizerHints(string? ModelType = null, int? BosId = null, int? EosId = null);
public static class TokenizerLoader
{
    public static ITextTokenizer Load(string path, TokenizerHints? hints = null) =>
        path.EndsWith(".bin") ? Llama2cTokenizer.Load(path) : throw new QllmException($"tokenizer '{path}' not supported yet");
    public static bool TryFindInDirectory(string directory, out string path) { path = ""; return false; }
}
