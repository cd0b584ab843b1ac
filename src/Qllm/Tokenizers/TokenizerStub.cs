// TEMPORARY: replaced when the tokenizer branch lands.
namespace Qllm.Tokenizers;
public sealed record TokenizerHints(string? ModelType = null, int? BosId = null, int? EosId = null);
public static class TokenizerLoader
{
    public static ITextTokenizer Load(string path, TokenizerHints? hints = null) => throw new NotImplementedException();
    public static bool TryFindInDirectory(string directory, out string path) { path = ""; return false; }
}
