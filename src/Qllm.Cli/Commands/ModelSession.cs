using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Formats;
using Qllm.Models.Layers;
using Qllm.Quantization.Packed;
using Qllm.Tensors;

namespace Qllm.Cli.Commands;

/// <summary>Loads the model named by --model/--tokenizer, applies --threads, and describes it for reports.</summary>
public static class ModelSession
{
    /// <param name="simulate">GPTQ checkpoints: dequantize into fp32 layers (fake quantization) instead of packed low-bit layers.</param>
    public static (LoadedModel Loaded, double Seconds) Load(string model, string? tokenizer, int threads, bool simulate = false)
    {
        Compute.Threads = threads;
        var clock = Stopwatch.StartNew();
        var options = new ModelLoadOptions
        {
            GptqLinearFactory = (weight, bias) => simulate ? ModelLoadOptions.DequantizedLinear(weight, bias) : new PackedLowBitLinear(weight, bias),
        };
        var loaded = ModelLoader.Load(model, tokenizer, options);
        ConsoleOutput.Info($"loaded {loaded.Model.Config.Architecture} from {loaded.ModelPath} ({loaded.Format}) in {clock.Elapsed.TotalSeconds:F2} s; tokenizer: {loaded.TokenizerPath ?? "none"}");
        return (loaded, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Quantizers start from full-precision weights; an already-quantized checkpoint is refused by name.</summary>
    public static void RequireFullPrecision(LoadedModel loaded)
    {
        var quantized = loaded.Model.BlockLinears().FirstOrDefault(s => s.Layer is not DenseLinear);
        if (quantized != null)
            throw new QllmException($"--model: '{loaded.ModelPath}' is already quantized ({quantized.Name} is '{quantized.Layer.Kind}'); quantize a full-precision model.");
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
