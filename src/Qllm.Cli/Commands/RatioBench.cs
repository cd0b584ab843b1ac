using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Benchmarks;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Models;
using Qllm.Tensors;

namespace Qllm.Cli.Commands;

/// <summary>
/// <c>qllm bench decode-ratio</c> and <c>prefill-ratio</c>: the speed of packed low-bit models (one per LM-head
/// storage) as a ratio to the fp32 model, all running in turn within one process
/// (<see cref="KernelBenchmarks.DecodeInterleaved"/>, <see cref="KernelBenchmarks.PrefillInterleaved"/>), so the
/// ratio of each round is measured under the same outside load and memory bandwidth, which on a shared virtual
/// machine swing by ±20% from one second to the next. Prints JSON: tokens/s and ratio per round, and the medians.
/// </summary>
public static class RatioBench
{
    public static Command Decode() => Create(prefill: false);

    public static Command Prefill() => Create(prefill: true);

    private static Command Create(bool prefill)
    {
        var shape = new Option<string>("--shape") { Description = $"Random-weight model shape: {string.Join(", ", RandomModels.Shapes.Keys)}.", DefaultValueFactory = _ => "llama-110m" };
        var length = prefill
            ? new Option<int>("--seqlen") { Description = "Tokens of the one sequence each pass runs.", DefaultValueFactory = _ => 512 }
            : new Option<int>("--tokens") { Description = "Decode steps per round and model (the context grows from 1 to this).", DefaultValueFactory = _ => 256 };
        var rounds = new Option<int>("--rounds") { Description = prefill ? "Rounds; each runs one pass per model." : "Rounds; each decodes --tokens with every model.", DefaultValueFactory = _ => 5 };
        var segment = new Option<int>("--segment") { Description = "Steps a model runs before the next one takes its turn.", DefaultValueFactory = _ => 16 };
        var wbits = new Option<int>("--wbits") { Description = "Bits of the packed block weights (RTN codes; GPTQ's have the same layout and speed): 2–8.", DefaultValueFactory = _ => 4 };
        var wgroup = new Option<int>("--wgroup") { Description = "Group size of the packed weights (-1 = per channel).", DefaultValueFactory = _ => 128 };
        var heads = new Option<string>("--head-dtypes")
        {
            Description = "Comma-separated LM-head storages of the packed models: f32, bf16 (a GPTQ checkpoint's 16-bit head), w2..w8.",
            DefaultValueFactory = _ => prefill ? "f32" : "f32,bf16,w8,w4",
        };
        var threads = CommonOptions.Threads();
        var command = prefill
            ? new Command("prefill-ratio", "Prefill tokens/s of packed low-bit models against fp32, in turns in one run so each round's ratio shares its conditions.")
            : new Command("decode-ratio", "Decode tokens/s of packed low-bit models against fp32, in turns in one run so each round's ratio shares its conditions.");
        foreach (var option in new Option[] { shape, length, rounds, wbits, wgroup, heads, threads }) command.Options.Add(option);
        if (!prefill) command.Options.Add(segment);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            Compute.Threads = result.GetValue(threads);
            int t = result.GetValue(length), r = result.GetValue(rounds), s = prefill ? 1 : result.GetValue(segment), bits = result.GetValue(wbits);
            if (t < 1 || r < 1 || s < 1) throw new QllmException(prefill ? "--seqlen and --rounds must be at least 1." : "--tokens, --rounds and --segment must be at least 1.");
            if (bits is < 2 or > 8) throw new QllmException($"--wbits must be between 2 and 8, got {bits}.");
            string[] headNames = result.GetValue(heads)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (headNames.Length == 0) throw new QllmException("--head-dtypes names no head storage.");

            string shapeName = result.GetValue(shape)!;
            var models = new List<CausalLanguageModel> { BenchCommand.BuildModel(shapeName, "f32", "f32", 0, result.GetValue(wgroup)) };
            int limit = models[0].Config.MaxPositions - (prefill ? 0 : 1);
            if (t > limit) throw new QllmException($"{length.Name} must be at most {limit} for this shape.");
            foreach (string head in headNames) models.Add(BenchCommand.BuildModel(shapeName, "f32", head, bits, result.GetValue(wgroup)));
            ConsoleOutput.Info(prefill
                ? $"prefill of {t} tokens × {r} rounds with {models.Count} models in turn"
                : $"decoding {t} tokens × {r} rounds with {models.Count} models in turns of {s} steps");
            double[,] speeds = prefill ? KernelBenchmarks.PrefillInterleaved(models, t, r) : KernelBenchmarks.DecodeInterleaved(models, t, r, s);

            var json = BenchCommand.Header(prefill ? "prefill-ratio" : "decode-ratio", Compute.Threads);
            json["shape"] = shapeName; json[prefill ? "seqlen" : "tokens"] = t; json["rounds"] = r; json["wbits"] = bits; json["wgroup"] = result.GetValue(wgroup);
            if (!prefill) json["segment"] = s;
            var configurations = new JsonArray();
            for (int i = 0; i < models.Count; i++)
            {
                double[] perRound = Enumerable.Range(0, r).Select(round => speeds[round, i]).ToArray();
                double[] ratios = Enumerable.Range(0, r).Select(round => speeds[round, i] / speeds[round, 0]).ToArray();
                configurations.Add(new JsonObject
                {
                    ["name"] = i == 0 ? "fp32" : $"w{bits} blocks, {headNames[i - 1]} head",
                    ["head_dtype"] = i == 0 ? "f32" : headNames[i - 1],
                    ["bytes_per_token"] = models[i].DecodeBytesPerToken,
                    ["tokens_per_s"] = new JsonArray(perRound.Select(v => (JsonNode)v).ToArray()),
                    ["median_tokens_per_s"] = Median(perRound),
                    ["ratio_to_fp32"] = new JsonArray(ratios.Select(v => (JsonNode)v).ToArray()),
                    ["median_ratio_to_fp32"] = Median(ratios),
                });
            }
            json["configurations"] = configurations;
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }

    internal static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
