using Qllm.Common;

namespace Qllm.Formats.HuggingFace;

/// <summary>
/// Copies a tokenizer into an exported model folder, where <see cref="Tokenizers.TokenizerLoader"/> (and, for
/// Hugging Face files, transformers) finds it again:
/// <list type="bullet">
/// <item>a Hugging Face tokenizer — a folder, or one of its files (tokenizer.json, tokenizer.model, vocab.json,
/// merges.txt, tokenizer_config.json) — brings every file of <see cref="HfFileNames"/> present beside it;</item>
/// <item>a llama2.c tokenizer (.bin, e.g. tok512.bin), which has no Hugging Face equivalent, is copied byte for
/// byte as tokenizer.bin, the name our loader looks for first.</item>
/// </list>
/// </summary>
public static class TokenizerFiles
{
    public const string Llama2cFileName = "tokenizer.bin";

    public static readonly IReadOnlyList<string> HfFileNames =
    [
        "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
        "added_tokens.json", "vocab.json", "merges.txt",
    ];

    /// <returns>The names of the files written into <paramref name="folder"/>.</returns>
    public static IReadOnlyList<string> CopyInto(string tokenizerPath, string folder)
    {
        if (File.Exists(tokenizerPath))
        {
            if (Path.GetExtension(tokenizerPath).Equals(".bin", StringComparison.OrdinalIgnoreCase))
            {
                File.Copy(tokenizerPath, Path.Combine(folder, Llama2cFileName));
                return [Llama2cFileName];
            }
            string name = Path.GetFileName(tokenizerPath);
            if (!HfFileNames.Contains(name))
                throw new QllmException($"{tokenizerPath}: not a tokenizer file that can be copied (expected a llama2.c .bin or one of {string.Join(", ", HfFileNames)}).");
            return CopyHfFiles(Path.GetDirectoryName(Path.GetFullPath(tokenizerPath))!, folder);
        }
        if (Directory.Exists(tokenizerPath))
        {
            var copied = CopyHfFiles(tokenizerPath, folder);
            if (copied.Count > 0) return copied;
            // A llama2.c model folder: its one tokenizer .bin, found as the model loader finds it.
            if (Tokenizers.TokenizerLoader.TryFindInDirectory(tokenizerPath, out string bin)) return CopyInto(bin, folder);
            throw new QllmException($"{tokenizerPath}: the folder holds no tokenizer files ({string.Join(", ", HfFileNames)} or a llama2.c .bin).");
        }
        throw new QllmException($"{tokenizerPath}: the tokenizer does not exist.");
    }

    private static List<string> CopyHfFiles(string source, string folder)
    {
        var copied = new List<string>();
        foreach (string name in HfFileNames)
        {
            string from = Path.Combine(source, name);
            if (!File.Exists(from)) continue;
            File.Copy(from, Path.Combine(folder, name));
            copied.Add(name);
        }
        return copied;
    }
}
