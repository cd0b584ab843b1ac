using Qllm.Common;
using Qllm.Evaluation;
using Qllm.Tokenizers;

namespace Qllm.Calibration;

/// <summary>
/// Calibration windows, row-major [Samples, SeqLen] in <see cref="Tokens"/>. The calibration text is tokenized
/// once as one stream (documents joined with "\n\n", a BOS at the very start, as GPTQ's WikiText-2 loader does)
/// and windows are cut from it. GPTQ's C4 loader instead draws a document longer than seqlen and a window
/// inside it; the C4 excerpt here has few documents that long, so the stream form is used for every source.
/// </summary>
public sealed record CalibrationSet(int[] Tokens, int Samples, int SeqLen, string Source, int StreamTokens, IReadOnlyList<string> Notes)
{
    public ReadOnlySpan<int> Sample(int index) => Tokens.AsSpan(index * SeqLen, SeqLen);

    /// <summary>
    /// Builds the set for a model whose context is <paramref name="maxPositions"/>; the window length is
    /// capped there (noted), and a text shorter than one window is an error that names the file.
    /// </summary>
    public static CalibrationSet Load(CalibrationOptions options, ITextTokenizer tokenizer, int maxPositions, string? dataDirectory = null)
    {
        options.Validate();
        var notes = new List<string>();
        var (path, text) = ReadText(options.Source, dataDirectory, notes);
        int seqLen = options.SeqLen;
        if (seqLen > maxPositions)
        {
            notes.Add($"--calib-seqlen {seqLen} capped at the model's {maxPositions} positions");
            seqLen = maxPositions;
        }
        int[] stream = tokenizer.Encode(text, addBos: true);
        if (stream.Length <= seqLen)
            throw new ModelFormatException(path, $"calibration text has {stream.Length} tokens, too short for one window of {seqLen} (+1) tokens");

        var tokens = new int[checked(options.Samples * seqLen)];
        if (options.Sampling == CalibrationSampling.First)
        {
            int available = stream.Length / seqLen;
            if (available < options.Samples)
                throw new QllmException(
                    $"--calib-sampling first: '{path}' gives {available} consecutive windows of {seqLen} tokens, fewer than --nsamples {options.Samples} (use --calib-sampling random, or fewer or shorter samples).");
            stream.AsSpan(0, tokens.Length).CopyTo(tokens);
        }
        else
        {
            // Seeded System.Random is a fixed algorithm across .NET versions, so a seed reproduces the same windows.
            var random = new Random(options.Seed);
            for (int s = 0; s < options.Samples; s++)
            {
                int start = random.Next(0, stream.Length - seqLen);
                stream.AsSpan(start, seqLen).CopyTo(tokens.AsSpan(s * seqLen, seqLen));
            }
            if ((long)options.Samples * seqLen > stream.Length)
                notes.Add($"{options.Samples} windows of {seqLen} tokens exceed the {stream.Length} tokens of the calibration text, so windows overlap");
        }
        return new CalibrationSet(tokens, options.Samples, seqLen, path, stream.Length, notes);
    }

    private static (string Path, string Text) ReadText(string source, string? dataDirectory, List<string> notes)
    {
        switch (source.ToLowerInvariant())
        {
            case "c4":
                return Documents(Path.Combine(DataDirectory.Resolve(dataDirectory), "c4", "c4-calibration-excerpt.txt"));
            case "wikitext2":
                notes.Add("wikitext2 calibration uses the test split (the train split is not available here): perplexity on wikitext2 is then not held out");
                var wiki = PerplexityDatasets.Load("wikitext2", dataDirectory);
                return (wiki.Source, wiki.Text);
            case "ptb":
                notes.Add("ptb calibration uses the validation split (the train split is not available here)");
                var ptb = PerplexityDatasets.Load("ptb-valid", dataDirectory);
                return (ptb.Source, ptb.Text);
        }
        if (source.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
            return (source, string.Join("\n\n", JsonLines.ReadStrings(source, "text")));
        if (File.Exists(source)) return Documents(source);
        throw new QllmException($"--calib: '{source}' is neither c4, wikitext2, ptb nor an existing .txt/.jsonl file.");
    }

    /// <summary>A text file with one document per line.</summary>
    private static (string, string) Documents(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        var lines = File.ReadLines(path).Where(line => line.Length > 0);
        return (path, string.Join("\n\n", lines));
    }
}
