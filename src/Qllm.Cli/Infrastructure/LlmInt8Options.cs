using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Models;
using Qllm.Quantization.LlmInt8;

namespace Qllm.Cli.Infrastructure;

/// <summary>LLM.int8() (Dettmers et al. 2022) on eval and run: --llm-int8 and its outlier threshold.</summary>
public sealed class LlmInt8Options
{
    public Option<bool> Enable { get; } = new("--llm-int8") { Description = "LLM.int8(): int8 vector-wise products, with input columns holding an |x| ≥ --int8-threshold kept in fp32 (simulated)." };
    public Option<float> Threshold { get; } = new("--int8-threshold") { Description = "LLM.int8() outlier threshold on |activation| (0 = every column in fp32).", DefaultValueFactory = _ => 6f };

    public IEnumerable<Option> All => [Enable, Threshold];

    public sealed record Settings(bool Enabled, float Threshold)
    {
        public string Describe() => $"llm.int8 t={Threshold.ToString("G4", CultureInfo.InvariantCulture)}";

        public void Apply(CausalLanguageModel model)
        {
            if (Enabled) LlmInt8Method.Apply(model, Threshold);
        }

        /// <summary>The threshold and, after scoring, the outlier columns found per forward call (mean per layer).</summary>
        public JsonObject? ToJson(CausalLanguageModel model)
        {
            if (!Enabled) return null;
            var layers = LlmInt8Method.OutlierColumns(model);
            return new JsonObject
            {
                ["threshold"] = Threshold,
                ["mean_outlier_columns_per_layer"] = layers.Count == 0 ? 0 : layers.Average(l => l.MeanOutlierColumns),
                ["mean_outlier_fraction_per_layer"] = layers.Count == 0 ? 0 : layers.Average(l => l.MeanOutlierColumns / l.Columns),
                ["layers"] = new JsonArray(layers.Select(l => (JsonNode?)new JsonObject
                {
                    ["name"] = l.Name,
                    ["columns"] = l.Columns,
                    ["mean_outlier_columns"] = l.MeanOutlierColumns,
                }).ToArray()),
            };
        }
    }

    /// <param name="activationsQuantized">Whether --abits is set: LLM.int8() quantizes the activations itself.</param>
    public Settings Read(ParseResult result, bool activationsQuantized)
    {
        float threshold = result.GetValue(Threshold);
        bool enabled = result.GetValue(Enable);
        if (!enabled)
        {
            if (result.GetResult(Threshold) is { Implicit: false }) throw new QllmException("--int8-threshold needs --llm-int8.");
            return new Settings(false, threshold);
        }
        if (!(threshold >= 0) || float.IsInfinity(threshold))
            throw new QllmException($"--int8-threshold must be a finite number ≥ 0, got {threshold.ToString(CultureInfo.InvariantCulture)}.");
        if (activationsQuantized) throw new QllmException("--llm-int8 quantizes the activations itself; drop --abits.");
        return new Settings(true, threshold);
    }
}
