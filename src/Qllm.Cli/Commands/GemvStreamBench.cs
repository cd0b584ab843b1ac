using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Benchmarks;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Models;
using Qllm.Quantization;
using Qllm.Tensors;

namespace Qllm.Cli.Commands;

/// <summary>
/// <c>qllm bench gemv-stream</c>: the weight bytes per second that the fp32, bf16 and packed low-bit decode GEMVs
/// stream from memory, each as a fraction of the plain read loop's bandwidth measured in the same round
/// (<see cref="GemvStreamBenchmark"/>). Prints JSON: per round and the medians.
/// </summary>
public static class GemvStreamBench
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = $"Random-weight shape whose block linears are streamed: {string.Join(", ", RandomModels.Shapes.Keys)}.", DefaultValueFactory = _ => "llama-110m" };
        var megabytes = new Option<int>("--megabytes") { Description = "Weight bytes each format streams per pass, at least (far larger than the caches).", DefaultValueFactory = _ => 256 };
        var rounds = new Option<int>("--rounds") { Description = "Rounds; each measures the read bandwidth, then one pass per format.", DefaultValueFactory = _ => 5 };
        var wbits = new Option<int>("--wbits") { Description = "Bits of the packed format (RTN codes; GPTQ's have the same layout and speed): 2–8.", DefaultValueFactory = _ => 4 };
        var wgroup = new Option<int>("--wgroup") { Description = "Group size of the packed format (-1 = per channel).", DefaultValueFactory = _ => 128 };
        var warmup = new Option<double>("--warmup") { Description = "Seconds each format runs before timing (its first passes run unoptimized code).", DefaultValueFactory = _ => 1.0 };
        var threads = CommonOptions.Threads();
        var command = new Command("gemv-stream", "GB/s that each weight format's decode GEMV streams from memory, against `bench bandwidth`'s read loop in the same round.")
        {
            shape, megabytes, rounds, wbits, wgroup, warmup, threads,
        };
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            Compute.Threads = result.GetValue(threads);
            int bits = result.GetValue(wbits), group = result.GetValue(wgroup), r = result.GetValue(rounds), mb = result.GetValue(megabytes);
            if (bits is < 2 or > 8) throw new QllmException($"--wbits must be between 2 and 8, got {bits}.");
            var spec = new QuantSpec(bits, Symmetric: false, GroupSize: group);
            spec.Validate();
            var measured = GemvStreamBenchmark.Run(result.GetValue(shape)!, mb, r, spec, result.GetValue(warmup), ConsoleOutput.Info);

            var json = BenchCommand.Header("gemv-stream", Compute.Threads);
            json["shape"] = result.GetValue(shape); json["megabytes"] = mb; json["rounds"] = r; json["wbits"] = bits; json["wgroup"] = group; json["warmup_s"] = result.GetValue(warmup);
            json["ceiling_gb_per_s"] = Array(measured.CeilingGbPerSecond);
            json["median_ceiling_gb_per_s"] = RatioBench.Median(measured.CeilingGbPerSecond);
            var formats = new JsonArray();
            foreach (var format in measured.Formats)
                formats.Add(new JsonObject
                {
                    ["name"] = format.Name,
                    ["layers"] = format.Layers,
                    ["bytes_per_pass"] = format.BytesPerPass,
                    ["gb_per_s"] = Array(format.GbPerSecond),
                    ["median_gb_per_s"] = RatioBench.Median(format.GbPerSecond),
                    ["of_ceiling"] = Array(format.OfCeiling),
                    ["median_of_ceiling"] = RatioBench.Median(format.OfCeiling),
                });
            json["formats"] = formats;
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }

    private static JsonArray Array(double[] values) => new(values.Select(v => (JsonNode)v).ToArray());
}
