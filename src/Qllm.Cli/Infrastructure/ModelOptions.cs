using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Cli.Commands;
using Qllm.Common;
using Qllm.Formats;
using Qllm.Models;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// The options of every command that loads a model and may transform it before use: --model, --tokenizer,
/// --threads, --output, --weight-dtype and the RTN quantization options, read and validated in one place.
/// </summary>
public sealed class ModelOptions
{
    public Option<string> Model { get; } = CommonOptions.Model();
    public Option<string?> Tokenizer { get; } = CommonOptions.Tokenizer();
    public Option<int> Threads { get; } = CommonOptions.Threads();
    public Option<string?> Output { get; } = CommonOptions.Output();
    public Option<string> WeightDType { get; } = CommonOptions.WeightDType();
    public QuantizationOptions Quantization { get; } = new();
    public Option<bool> Simulate { get; } = new("--simulate")
    {
        Description = "For a GPTQ checkpoint: dequantize its weights into fp32 layers (fake quantization) instead of running the packed low-bit layers.",
    };

    public void AddTo(Command command)
    {
        foreach (Option option in new Option[] { Model, Tokenizer, Threads, Output, WeightDType, Simulate }) command.Options.Add(option);
        Quantization.AddTo(command);
    }

    /// <summary>What to do to the model once loaded: quantize it, or store its weights as bf16.</summary>
    public sealed record Transform(QuantizationOptions.Settings Quantization, string WeightDType)
    {
        public void Apply(CausalLanguageModel model)
        {
            Quantization.Apply(model);
            WeightStorage.Apply(model, WeightDType);
        }

        public JsonObject ToJson()
        {
            var json = Quantization.ToJson();
            json["weight_dtype"] = WeightDType;
            return json;
        }
    }

    /// <summary>Reads and checks the options before anything is loaded, so a bad option fails fast.</summary>
    public Transform ReadTransform(ParseResult result)
    {
        var settings = Quantization.Read(result);
        string dtype = result.GetValue(WeightDType)!;
        if (!WeightStorage.Names.Contains(dtype))
            throw new QllmException($"--weight-dtype: '{dtype}' is not one of {string.Join(", ", WeightStorage.Names)}.");
        if (dtype != "f32" && settings.Any)
            throw new QllmException("--weight-dtype bf16 cannot be combined with --wbits/--abits (it would round the quantized grid again).");
        return new Transform(settings, dtype);
    }

    public (LoadedModel Loaded, double Seconds) Load(ParseResult result) =>
        ModelSession.Load(result.GetValue(Model)!, result.GetValue(Tokenizer), result.GetValue(Threads), result.GetValue(Simulate));
}
