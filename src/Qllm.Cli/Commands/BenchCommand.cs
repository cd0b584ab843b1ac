using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Qllm.Benchmarks;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Models;
using Qllm.Quantization;
using Qllm.Tensors;
using Qllm.Tensors.Kernels;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm bench</c>: kernel and model speed, printed as JSON (bench/compare.sh sets them against anchors).</summary>
public static class BenchCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var command = new Command("bench", "Measure kernel and model speed; prints JSON. See bench/compare.sh for the anchors (OpenBLAS, PyTorch, memory bandwidth).");
        command.Subcommands.Add(GemmCommand());
        command.Subcommands.Add(ModelCommand("prefill", "Tokens per second of a forward pass over one sequence (as perplexity runs it)."));
        command.Subcommands.Add(ModelCommand("decode", "Tokens per second of one-token decode steps through the KV cache."));
        command.Subcommands.Add(BandwidthCommand());
        command.Subcommands.Add(RatioBench.Decode());
        command.Subcommands.Add(RatioBench.Prefill());
        command.Subcommands.Add(GemvStreamBench.Create());
        command.Subcommands.Add(PrefixReuseBench.Create());
        return command;
    }

    private static Option<int> Threads() => CommonOptions.Threads();

    private static Option<string> DType() => new("--dtype") { Description = "Weight storage: f32 or bf16 (widened to fp32 in the kernel).", DefaultValueFactory = _ => "f32" };

    /// <summary>f32 or bf16 storage, as --dtype and --head-dtype spell it.</summary>
    private static bool ParseBf16(string dtype, string option = "--dtype") => dtype switch
    {
        "f32" => false,
        "bf16" => true,
        _ => throw new QllmException(option == "--dtype"
            ? $"--dtype: '{dtype}' is not one of f32, bf16."
            : $"{option}: '{dtype}' is not one of f32, bf16, w2..w8."),
    };

    /// <summary>The head as a packed low-bit layer (asymmetric RTN): what a fully quantized model decodes with.</summary>
    private static void QuantizeHead(CausalLanguageModel model, int bits, int group)
    {
        if (bits is < 2 or > 8) throw new QllmException($"--head-dtype: w{bits} is not one of w2..w8.");
        var spec = new QuantSpec(bits, Symmetric: false, GroupSize: group);
        spec.Validate();
        var dense = (Models.Layers.DenseLinear)model.Head.Layer;
        model.Head.Layer = new Quantization.Packed.PackedLowBitLinear(WeightQuantizer.Quantize(dense.Weight, dense.OutFeatures, dense.InFeatures, spec), null);
    }

    /// <summary>
    /// A random-weight model of a known shape for speed measurements: weights in <paramref name="dtype"/> (f32, bf16),
    /// the head in <paramref name="head"/> (f32, bf16, w2..w8), and with <paramref name="wbits"/> ≠ 0 every block linear
    /// layer packed as RTN codes (the layout and speed of GPTQ's).
    /// </summary>
    internal static CausalLanguageModel BuildModel(string shape, string dtype, string head, int wbits, int wgroup)
    {
        bool bf16 = ParseBf16(dtype);
        int headBits = head.Length == 2 && head[0] == 'w' && char.IsDigit(head[1]) ? head[1] - '0' : 0;
        var model = RandomModels.Create(shape, bf16: bf16, bf16Head: headBits == 0 && ParseBf16(head, "--head-dtype"));
        if (headBits != 0) QuantizeHead(model, headBits, wgroup);
        if (wbits != 0)
        {
            var spec = new QuantSpec(wbits, Symmetric: false, GroupSize: wgroup);
            spec.Validate();
            if (bf16) throw new QllmException("--wbits packs the fp32 weights: use it with --dtype f32 (the head keeps --head-dtype).");
            RtnMethod.QuantizeWeights(model, spec, simulate: false);
        }
        return model;
    }

    internal static JsonObject Header(string what, int threads) => new()
    {
        ["bench"] = what,
        ["kernel_path"] = KernelSelector.Current.ToString(),
        ["threads"] = threads,
        ["environment"] = ModelSession.Environment(threads),
    };

    private static Command GemmCommand()
    {
        var m = new Option<int>("--m") { Description = "Rows of X (tokens).", DefaultValueFactory = _ => 2048 };
        var n = new Option<int>("--n") { Description = "Rows of W (output features).", DefaultValueFactory = _ => 2048 };
        var k = new Option<int>("--k") { Description = "Columns of X and W (input features).", DefaultValueFactory = _ => 2048 };
        var dtype = new Option<string>("--dtype") { Description = "Weight storage: f32, bf16 (widened to fp32 in the kernel), or i8 (W8A8 int8 GEMM, timed against fp32 in the same run).", DefaultValueFactory = _ => "f32" };
        var threads = Threads();
        var int8 = new Int8GemmOptions();
        var command = new Command("gemm", "GFLOPS of Y = X·Wᵀ (W packed once, as a layer holds it).") { m, n, k, dtype, threads };
        int8.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            int mm = result.GetValue(m), nn = result.GetValue(n), kk = result.GetValue(k);
            if (mm < 1 || nn < 1 || kk < 1) throw new QllmException("--m, --n and --k must be positive.");
            Compute.Threads = result.GetValue(threads);
            if (result.GetValue(dtype) is not ("f32" or "bf16" or "i8")) throw new QllmException($"--dtype: '{result.GetValue(dtype)}' is not one of f32, bf16, i8.");
            if (result.GetValue(dtype) == "i8")
            {
                Console.WriteLine(int8.Run(result, (mm, nn, kk), Header("gemm-i8", Compute.Threads)).ToJsonString(Indented));
                return 0;
            }
            var (gflops, timing) = KernelBenchmarks.Gemm(mm, nn, kk, ParseBf16(result.GetValue(dtype)!));
            var json = Header("gemm", Compute.Threads);
            json["m"] = mm; json["n"] = nn; json["k"] = kk; json["dtype"] = result.GetValue(dtype);
            json["gflops"] = gflops; json["median_s"] = timing.MedianSeconds; json["best_s"] = timing.BestSeconds; json["repeats"] = timing.Repeats;
            Console.WriteLine(json.ToJsonString(Indented));
            return 0;
        }));
        return command;
    }

    private static Command ModelCommand(string name, string description)
    {
        var shape = new Option<string>("--shape") { Description = $"Random-weight model shape: {string.Join(", ", RandomModels.Shapes.Keys)}.", DefaultValueFactory = _ => "llama-110m" };
        var seqLen = new Option<int>("--seqlen") { Description = "Sequence length (prefill).", DefaultValueFactory = _ => 512 };
        var tokens = new Option<int>("--tokens") { Description = "Decode steps (decode).", DefaultValueFactory = _ => 256 };
        var dtype = DType();
        var headDtype = new Option<string?>("--head-dtype") { Description = "LM head storage: f32, bf16, or w2..w8 (packed RTN codes, --wgroup groups). Default: --dtype. GPTQ leaves the head at the model's 16-bit dtype." };
        var wbits = new Option<int>("--wbits") { Description = "Replace every block linear layer by a packed low-bit one (RTN codes; GPTQ's have the same layout and speed): 2–8 bits. 0 keeps --dtype.", DefaultValueFactory = _ => 0 };
        var wgroup = new Option<int>("--wgroup") { Description = "Group size of the packed weights (-1 = per channel).", DefaultValueFactory = _ => 128 };
        var threads = Threads();
        var command = new Command(name, description) { shape, seqLen, tokens, dtype, headDtype, wbits, wgroup, threads };
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            Compute.Threads = result.GetValue(threads);
            string head = result.GetValue(headDtype) ?? result.GetValue(dtype)!;
            var model = BuildModel(result.GetValue(shape)!, result.GetValue(dtype)!, head, result.GetValue(wbits), result.GetValue(wgroup));
            var json = Header(name, Compute.Threads);
            json["shape"] = result.GetValue(shape); json["dtype"] = result.GetValue(dtype); json["head_dtype"] = head;
            if (result.GetValue(wbits) is var bits and not 0) { json["wbits"] = bits; json["wgroup"] = result.GetValue(wgroup); }
            json["parameters"] = model.ParameterCount; json["weight_bytes"] = model.WeightBytes;
            if (name == "prefill")
            {
                int t = result.GetValue(seqLen);
                if (t < 1 || t > model.Config.MaxPositions) throw new QllmException($"--seqlen must be between 1 and {model.Config.MaxPositions}.");
                var (tps, timing) = KernelBenchmarks.Prefill(model, t);
                json["seqlen"] = t; json["tokens_per_s"] = tps; json["median_s"] = timing.MedianSeconds; json["repeats"] = timing.Repeats;
            }
            else
            {
                int t = result.GetValue(tokens);
                if (t < 1 || t >= model.Config.MaxPositions) throw new QllmException($"--tokens must be between 1 and {model.Config.MaxPositions - 1}.");
                var (tps, seconds) = KernelBenchmarks.Decode(model, t);
                json["tokens"] = t; json["tokens_per_s"] = tps; json["seconds"] = seconds;
                json["bytes_per_token"] = model.DecodeBytesPerToken;
                json["weight_gb_per_s"] = model.DecodeBytesPerToken * tps / 1e9;
            }
            Console.WriteLine(json.ToJsonString(Indented));
            return 0;
        }));
        return command;
    }

    private static Command BandwidthCommand()
    {
        var megabytes = new Option<int>("--megabytes") { Description = "Buffer size (far larger than the caches).", DefaultValueFactory = _ => 1024 };
        var threads = Threads();
        var command = new Command("bandwidth", "Streaming-read memory bandwidth (GB/s): the ceiling for decode.") { megabytes, threads };
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            Compute.Threads = result.GetValue(threads);
            var json = Header("bandwidth", Compute.Threads);
            json["bytes"] = (long)result.GetValue(megabytes) << 20;
            json["read_gb_per_s"] = KernelBenchmarks.ReadBandwidth((long)result.GetValue(megabytes) << 20);
            Console.WriteLine(json.ToJsonString(Indented));
            return 0;
        }));
        return command;
    }
}
