using System.CommandLine;
using Qllm.Common;
using Qllm.Evaluation;

namespace Qllm.Cli.Infrastructure;

/// <summary>Options shared by every command that loads a model.</summary>
public static class CommonOptions
{
    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Show stack traces and extra detail on errors.",
        Recursive = true,
    };

    public static Option<string> Model() => new("--model", "-m")
    {
        Description = "Model to load: a Hugging Face folder (config.json + *.safetensors), a llama2.c .bin file, or a folder holding one .bin and its tokenizer.bin/tok*.bin.",
        Required = true,
    };

    public static Option<string?> Tokenizer() => new("--tokenizer")
    {
        Description = "Tokenizer to use instead of the one found with the model (tokenizer.json, tokenizer.model, vocab.json+merges.txt, or llama2.c tokenizer.bin).",
    };

    public static Option<int> Threads() => new("--threads")
    {
        Description = "Compute threads (default: all cores).",
        DefaultValueFactory = _ => Environment.ProcessorCount,
    };

    public static Option<string> WeightDType() => new("--weight-dtype")
    {
        Description = "Weight storage of the linear layers: f32, or bf16 (half the memory traffic; products still in fp32).",
        DefaultValueFactory = _ => "f32",
    };

    public static Option<string?> Output() => new("--output", "-o")
    {
        Description = "Write the results, with the full configuration and timings, to this JSON file.",
    };

    public static Option<string> Perplexity() => new("--ppl")
    {
        Description = "Comma-separated data sets to score: wikitext2, ptb, ptb-valid, c4, or paths to .txt/.jsonl files.",
        DefaultValueFactory = _ => "wikitext2",
    };

    public static Option<int> SeqLen() => new("--seqlen")
    {
        Description = "Perplexity window length in tokens (default 2048, capped at the model's maximum positions).",
        DefaultValueFactory = _ => 2048,
    };

    public static Option<int?> WindowLimit() => new("--limit")
    {
        Description = "Score at most this many windows per data set, and the first N documents per task (lm-eval --limit; MMLU: per subject); the result is then partial.",
    };

    public static Option<string?> DataDirectory() => new("--data-dir")
    {
        Description = $"Folder holding wikitext2/, ptb/, c4/ (default: ${Evaluation.DataDirectory.EnvironmentVariable}, else ../shared/data).",
    };

    public static int CheckSeqLen(int seqLen) =>
        seqLen >= 2 ? seqLen : throw new QllmException($"--seqlen must be at least 2, got {seqLen}.");

    public static int? CheckWindowLimit(int? limit) =>
        limit is < 1 ? throw new QllmException($"--limit must be at least 1, got {limit}.") : limit;
}
