using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Qllm.Benchmarks;
using Qllm.Common;
using Qllm.Reporting;

namespace Qllm.Cli.Infrastructure;

/// <summary>The options of <c>qllm bench gemm --dtype i8</c>, and the run: JSON on stdout, a Markdown table on stderr.</summary>
public sealed class Int8GemmOptions
{
    public Option<string> Shapes { get; } = new("--shapes")
    {
        Description = "i8 only: 'one' (the --m/--n/--k shape) or 'llm' (M = 512 and 2048 with N×K = 768×768, 2048×768, 768×2048, 4096×4096, 11008×4096).",
        DefaultValueFactory = _ => "one",
    };

    public Option<int> Rounds { get; } = new("--rounds") { Description = "i8 only: alternating int8/fp32 rounds; each keeps its best.", DefaultValueFactory = _ => 10 };

    public void AddTo(Command command)
    {
        command.Options.Add(Shapes);
        command.Options.Add(Rounds);
    }

    public JsonObject Run(ParseResult result, (int M, int N, int K) shape, JsonObject header)
    {
        int rounds = result.GetValue(Rounds);
        if (rounds < 1) throw new QllmException("--rounds must be positive.");
        var shapes = result.GetValue(Shapes) switch
        {
            "one" => [shape],
            "llm" => Int8GemmBenchmark.LlmShapes,
            var other => throw new QllmException($"--shapes: '{other}' is not one of one, llm."),
        };
        var table = new MarkdownTable("M", "N", "K", "i8 GOPS", "f32 GFLOPS", "i8 / f32", "i8 ms", "f32 ms", "quantize ms");
        var rows = new JsonArray();
        foreach (var (m, n, k) in shapes)
        {
            var t = Int8GemmBenchmark.Run(m, n, k, rounds);
            table.AddRow(m, n, k, Format(t.Gops, 1), Format(t.Gflops, 1), Format(t.Speedup, 2) + "×",
                Format(t.Int8Seconds * 1e3, 2), Format(t.F32Seconds * 1e3, 2), Format(t.QuantizeSeconds * 1e3, 2));
            rows.Add(new JsonObject
            {
                ["m"] = m, ["n"] = n, ["k"] = k,
                ["i8_gops"] = t.Gops, ["f32_gflops"] = t.Gflops, ["i8_over_f32"] = t.Speedup,
                ["i8_best_s"] = t.Int8Seconds, ["f32_best_s"] = t.F32Seconds, ["quantize_best_s"] = t.QuantizeSeconds, ["rounds"] = t.Rounds,
            });
        }
        ConsoleOutput.Info(table.ToString());
        header["results"] = rows;
        header["markdown"] = table.ToString();
        return header;
    }

    private static string Format(double value, int decimals) => value.ToString("F" + decimals, CultureInfo.InvariantCulture);
}
