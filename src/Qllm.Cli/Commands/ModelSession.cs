using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Formats;
using Qllm.Tensors;

namespace Qllm.Cli.Commands;

/// <summary>Loads the model named by --model/--tokenizer, applies --threads, and describes it for reports.</summary>
public static class ModelSession
{
    public static (LoadedModel Loaded, double Seconds) Load(string model, string? tokenizer, int threads)
    {
        Compute.Threads = threads;
        var clock = Stopwatch.StartNew();
        var loaded = ModelLoader.Load(model, tokenizer);
        ConsoleOutput.Info($"loaded {loaded.Model.Config.Architecture} from {loaded.ModelPath} ({loaded.Format}) in {clock.Elapsed.TotalSeconds:F2} s; tokenizer: {loaded.TokenizerPath ?? "none"}");
        return (loaded, clock.Elapsed.TotalSeconds);
    }

    public static JsonObject Describe(LoadedModel loaded)
    {
        var c = loaded.Model.Config;
        return new JsonObject
        {
            ["path"] = Path.GetFullPath(loaded.ModelPath),
            ["format"] = loaded.Format,
            ["tokenizer"] = loaded.TokenizerPath is null ? null : Path.GetFullPath(loaded.TokenizerPath),
            ["architecture"] = c.Architecture,
            ["parameters"] = loaded.Model.ParameterCount,
            ["weight_bytes"] = loaded.Model.WeightBytes,
            ["hidden_size"] = c.HiddenSize,
            ["intermediate_size"] = c.IntermediateSize,
            ["num_layers"] = c.NumLayers,
            ["num_heads"] = c.NumHeads,
            ["num_kv_heads"] = c.NumKvHeads,
            ["head_dim"] = c.HeadDim,
            ["vocab_size"] = c.VocabSize,
            ["max_positions"] = c.MaxPositions,
        };
    }

    public static JsonObject Environment(int threads) => new()
    {
        ["qllm_version"] = typeof(ModelSession).Assembly.GetName().Version?.ToString(),
        ["dotnet"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["cores"] = System.Environment.ProcessorCount,
        ["threads"] = threads,
        ["avx512"] = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated,
        ["timestamp_utc"] = DateTime.UtcNow.ToString("O"),
        ["command_line"] = string.Join(' ', System.Environment.GetCommandLineArgs().Skip(1)),
    };
}
