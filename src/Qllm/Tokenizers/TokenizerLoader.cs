using System.Text.Json;
using Qllm.Common;

namespace Qllm.Tokenizers;

/// <summary>
/// Opens any supported tokenizer: a Hugging Face folder or file (tokenizer.json, tokenizer.model, vocab.json +
/// merges.txt) or a llama2.c tokenizer.bin. A missing, unreadable or malformed file is a <see cref="ModelFormatException"/> naming it.
/// </summary>
public static class TokenizerLoader
{
    public static ITextTokenizer Load(string path, TokenizerHints? hints = null)
    {
        if (Directory.Exists(path))
        {
            if (!TryFindInDirectory(path, out string found))
                throw new ModelFormatException(path, "no tokenizer found in this folder (looked for tokenizer.json, tokenizer.model, vocab.json + merges.txt, tokenizer.bin, tok*.bin).");
            path = found;
        }
        if (!File.Exists(path)) throw new ModelFormatException(path, "tokenizer file does not exist.");

        string name = Path.GetFileName(path);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        try
        {
            if (name.Equals("vocab.json", StringComparison.OrdinalIgnoreCase)) return LoadVocabMerges(path, Sibling(path, "merges.txt"), hints);
            if (name.Equals("merges.txt", StringComparison.OrdinalIgnoreCase)) return LoadVocabMerges(Sibling(path, "vocab.json"), path, hints);
            return ext switch
            {
                ".json" => HfTokenizerJson.Load(path, hints),
                ".model" => LoadModelFile(path),
                ".bin" => Llama2cTokenizer.Load(path),
                _ => throw new ModelFormatException(path, "unknown tokenizer file type (expected tokenizer.json, tokenizer.model, vocab.json, or a llama2.c .bin)."),
            };
        }
        catch (QllmException) { throw; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or InvalidDataException
                                      or FormatException or ArgumentException or InvalidOperationException or KeyNotFoundException
                                      or IndexOutOfRangeException or OverflowException or NotSupportedException
                                      || e.GetType().Name == "InvalidProtocolBufferException")
        {
            throw new ModelFormatException(path, $"cannot read tokenizer: {e.Message}", inner: e);
        }
    }

    public static bool TryFindInDirectory(string directory, out string path)
    {
        path = string.Empty;
        if (!Directory.Exists(directory)) return false;
        foreach (string candidate in new[] { "tokenizer.json", "tokenizer.model" })
        {
            string p = Path.Combine(directory, candidate);
            if (File.Exists(p))
            {
                path = p;
                return true;
            }
        }
        string vocab = Path.Combine(directory, "vocab.json");
        if (File.Exists(vocab) && File.Exists(Path.Combine(directory, "merges.txt")))
        {
            path = vocab;
            return true;
        }
        string bin = Path.Combine(directory, "tokenizer.bin");
        if (File.Exists(bin))
        {
            path = bin;
            return true;
        }
        var toks = Directory.GetFiles(directory, "tok*.bin");
        if (toks.Length == 1)
        {
            path = toks[0];
            return true;
        }
        return false;
    }

    private static string Sibling(string path, string name) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, name);

    private static ITextTokenizer LoadVocabMerges(string vocabPath, string mergesPath, TokenizerHints? hints)
    {
        byte[] vocab = ReadFile(vocabPath);
        byte[] merges = ReadFile(mergesPath);
        try
        {
            return ByteLevelBpeTokenizer.Create(vocab, merges, hints?.ModelType == "opt" ? true : null);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(vocabPath, $"invalid vocab.json: {e.Message}", inner: e);
        }
    }

    private static byte[] ReadFile(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "tokenizer file does not exist.");
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
    }

    private static ITextTokenizer LoadModelFile(string path)
    {
        byte[] data = ReadFile(path);
        if (data.Length == 0) throw new ModelFormatException(path, "tokenizer.model is empty.");
        if (TiktokenModelTokenizer.LooksLikeTiktoken(data.AsSpan(0, Math.Min(data.Length, 4096))))
            return TiktokenModelTokenizer.Create(data);
        return SentencePieceModelTokenizer.Create(new MemoryStream(data));
    }
}
