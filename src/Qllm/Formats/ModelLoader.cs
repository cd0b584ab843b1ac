using Qllm.Common;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Tokenizers;

namespace Qllm.Formats;

/// <summary>A model with its tokenizer and where they came from.</summary>
public sealed record LoadedModel(CausalLanguageModel Model, ITextTokenizer? Tokenizer, string ModelPath, string Format, string? TokenizerPath)
{
    public ITextTokenizer RequireTokenizer() => Tokenizer ??
        throw new QllmException($"no tokenizer was found with the model '{ModelPath}'; pass --tokenizer PATH.");
}

/// <summary>
/// Resolves <c>--model</c>: a Hugging Face folder (config.json + safetensors), a llama2.c <c>.bin</c>
/// file, or a folder holding one llama2.c checkpoint and its <c>tokenizer.bin</c>/<c>tok*.bin</c>.
/// The tokenizer is taken from <c>--tokenizer</c> when given, else from beside the model.
/// <c>random:SHAPE</c> builds a random-weight model in memory (see <see cref="RandomModels"/>).
/// </summary>
public static class ModelLoader
{
    public static LoadedModel Load(string modelPath, string? tokenizerPath = null, ModelLoadOptions? options = null)
    {
        if (RandomModels.IsRandom(modelPath))
        {
            var random = RandomModels.Create(modelPath);
            var randomTokenizer = tokenizerPath is null ? null : TokenizerLoader.Load(tokenizerPath, new TokenizerHints("llama", 1, 2));
            return new LoadedModel(random, randomTokenizer, modelPath, "random", tokenizerPath);
        }
        var (path, format) = Locate(modelPath);
        CausalLanguageModel model = format == "huggingface" ? HfModelLoader.Load(path, options) : Llama2cCheckpoint.Load(path);
        string folder = format == "huggingface" ? path : Path.GetDirectoryName(Path.GetFullPath(path))!;
        var hints = new TokenizerHints(
            ModelType: model.Config.Family == ModelFamily.Opt ? "opt" : format == "llama2.c" ? "llama2.c" : "llama",
            BosId: model.Config.BosTokenId,
            EosId: model.Config.EosTokenIds.Count > 0 ? model.Config.EosTokenIds[0] : null);

        if (tokenizerPath != null)
        {
            if (!File.Exists(tokenizerPath) && !Directory.Exists(tokenizerPath))
                throw new QllmException($"--tokenizer: '{tokenizerPath}' does not exist.");
            return new LoadedModel(model, TokenizerLoader.Load(tokenizerPath, hints), path, format, tokenizerPath);
        }
        string? found = format == "llama2.c" ? FindLlama2cTokenizer(folder) : TokenizerLoader.TryFindInDirectory(folder, out var p) ? p : null;
        var tokenizer = found is null ? null : TokenizerLoader.Load(found, hints);
        return new LoadedModel(model, tokenizer, path, format, found);
    }

    /// <summary>Decides what <paramref name="modelPath"/> is: ("folder", "huggingface") or (".bin file", "llama2.c").</summary>
    public static (string Path, string Format) Locate(string modelPath)
    {
        if (File.Exists(modelPath))
        {
            string name = Path.GetFileName(modelPath);
            if (name == "config.json" || name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) || name == "model.safetensors.index.json")
                return (Path.GetDirectoryName(Path.GetFullPath(modelPath))!, "huggingface");
            if (name.EndsWith(".bin", StringComparison.OrdinalIgnoreCase)) return (modelPath, "llama2.c");
            throw new QllmException($"--model: '{modelPath}' is neither a llama2.c .bin checkpoint nor a Hugging Face folder.");
        }
        if (!Directory.Exists(modelPath)) throw new QllmException($"--model: '{modelPath}' does not exist.");
        if (File.Exists(Path.Combine(modelPath, "config.json"))) return (modelPath, "huggingface");

        var checkpoints = Directory.GetFiles(modelPath, "*.bin").Where(f => !IsLlama2cTokenizerName(Path.GetFileName(f))).ToArray();
        return checkpoints.Length switch
        {
            1 => (checkpoints[0], "llama2.c"),
            0 => throw new QllmException($"--model: folder '{modelPath}' has no config.json and no llama2.c .bin checkpoint."),
            _ => throw new QllmException($"--model: folder '{modelPath}' holds several .bin checkpoints ({string.Join(", ", checkpoints.Select(Path.GetFileName))}); name one."),
        };
    }

    private static bool IsLlama2cTokenizerName(string name) =>
        name == "tokenizer.bin" || name.StartsWith("tok", StringComparison.Ordinal);

    private static string? FindLlama2cTokenizer(string folder)
    {
        string standard = Path.Combine(folder, "tokenizer.bin");
        if (File.Exists(standard)) return standard;
        var candidates = Directory.GetFiles(folder, "tok*.bin");
        return candidates.Length == 1 ? candidates[0] : null;
    }
}
