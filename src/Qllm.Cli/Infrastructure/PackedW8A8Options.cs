using System.CommandLine;
using Qllm.Common;
using Qllm.Models;
using Qllm.Quantization;
using Qllm.Quantization.W8A8;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// <c>--packed</c> on <c>qllm eval</c>: W8A8 RTN that runs on the int8 kernel (<see cref="Int8Linear"/>) instead of
/// simulating it. The model is quantized exactly as the simulation is (same weight codes, same activation grid),
/// then its layers are packed, so perplexity matches the simulated run up to fp32 summation order.
/// </summary>
public sealed class PackedW8A8Options
{
    public Option<bool> Packed { get; } = new("--packed")
    {
        Description = "Run W8A8 on the int8 GEMM (needs --wbits 8 per channel, --abits 8 per token or per tensor; asymmetric grids work too).",
    };

    public void AddTo(Command command) => command.Options.Add(Packed);

    /// <summary>Null without --packed; otherwise the settings, checked to be ones the int8 kernel can run.</summary>
    public QuantizationOptions.Settings? Read(ParseResult result, ModelOptions.Transform transform)
    {
        if (!result.GetValue(Packed)) return null;
        var settings = transform.Quantization;
        if (settings.Weights is not { Bits: 8 } weights || settings.Activations is not { Bits: 8 } activations)
            throw new QllmException("--packed runs the int8 kernel: it needs --wbits 8 and --abits 8.");
        if (weights.GroupSize > 0) throw new QllmException("--packed needs one weight scale per output channel: drop --wgroup.");
        if (activations.GroupSize > 0) throw new QllmException("--packed needs one activation scale per token or per tensor: drop --agroup.");
        if (settings.IncludeHead) throw new QllmException("--packed quantizes the decoder blocks only: drop --quantize-head.");
        return settings;
    }

    /// <summary>RTN codes for the block weights, the activation grid around them (the simulated model), then packing.</summary>
    public static void Apply(CausalLanguageModel model, QuantizationOptions.Settings settings)
    {
        var codes = RtnMethod.QuantizeWeights(model, settings.Weights!, simulate: true);
        RtnMethod.Apply(model, weights: null, settings.Activations);
        W8A8Packer.Pack(model, codes.Weights);
    }
}
