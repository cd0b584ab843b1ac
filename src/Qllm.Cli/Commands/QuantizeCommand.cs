using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Formats.Gptq;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm quantize</c>: quantize a model's weights (GPTQ or RTN) and save a GPTQ/AutoGPTQ-format folder.</summary>
public static class QuantizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var threads = CommonOptions.Threads();
        var output = CommonOptions.Output();
        var method = new WeightMethodOptions();
        var save = new Option<string>("--save") { Description = "Folder to write the quantized checkpoint to (GPTQ/AutoGPTQ layout; must not exist or be empty).", Required = true };
        var dataDir = CommonOptions.DataDirectory();

        var command = new Command("quantize",
            "Quantize the weights of every decoder-block linear layer with GPTQ (calibrated on --calib) or RTN, and save the model " +
            "as a Hugging Face folder in the GPTQ layout (qweight/qzeros/scales/g_idx + quantization_config) that transformers, " +
            "vLLM and 'qllm eval --model DIR' load.\n\n" +
            "Example:\n  qllm quantize --model ../shared/models/stories260K --method gptq --wbits 4 --wgroup 32 --nsamples 128 --calib-seqlen 512 --save out/stories-w4g32")
        {
            model, tokenizer, threads, output, save, dataDir,
        };
        method.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var total = Stopwatch.StartNew();
            var settings = method.Read(result);
            if (settings.Method == "zeroquant") throw new QllmException("--method zeroquant keeps fake-quantized layers, which have no checkpoint form: use qllm run.");
            string folder = result.GetValue(save)!;
            CheckSaveTarget(folder, settings);
            var (loaded, loadSeconds) = ModelSession.Load(result.GetValue(model)!, result.GetValue(tokenizer), result.GetValue(threads));
            ModelSession.RequireFullPrecision(loaded);

            var outcome = WeightQuantizationStep.Run(loaded, settings, result.GetValue(dataDir));
            var saveClock = Stopwatch.StartNew();
            GptqCheckpointWriter.Write(folder, loaded.Model, outcome.Result.Weights, CheckpointInfo(settings), loaded.TokenizerPath);
            ConsoleOutput.Info($"saved {settings.Describe()} checkpoint to {Path.GetFullPath(folder)}");
            outcome.Timings["save_s"] = saveClock.Elapsed.TotalSeconds;
            outcome.Timings["load_s"] = loadSeconds;
            outcome.Timings["total_s"] = total.Elapsed.TotalSeconds;
            Console.Write(outcome.LayerTable);

            if (result.GetValue(output) is { } path)
                ResultsFile.Write(path, new JsonObject
                {
                    ["command"] = "quantize",
                    ["environment"] = ModelSession.Environment(result.GetValue(threads)),
                    ["model"] = ModelSession.Describe(loaded),
                    ["config"] = settings.ToJson(),
                    ["calibration"] = outcome.Calibration,
                    ["saved_to"] = Path.GetFullPath(folder),
                    ["timings"] = outcome.Timings,
                    ["layers"] = WeightQuantizationStep.LayersJson(outcome.Result),
                });
            return 0;
        }));
        return command;
    }

    /// <summary>Fails before hours of quantization when the checkpoint could not be written anyway.</summary>
    public static void CheckSaveTarget(string folder, WeightMethodOptions.Settings settings)
    {
        if (!GptqPacking.SupportedBits.Contains(settings.Spec.Bits))
            throw new QllmException($"--save: GPTQ checkpoints hold 2, 3, 4 or 8-bit weights, not --wbits {settings.Spec.Bits}.");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new QllmException($"--save: folder '{folder}' exists and is not empty.");
        if (File.Exists(folder)) throw new QllmException($"--save: '{folder}' is a file.");
    }

    public static GptqCheckpointInfo CheckpointInfo(WeightMethodOptions.Settings s) =>
        new(s.Spec.Bits, s.Spec.GroupSize, DescAct: s.Method == "gptq" && s.Gptq.ActOrder, Symmetric: s.Spec.Symmetric,
            TrueSequential: s.Method == "gptq" && s.TrueSequential, DampPercent: s.Gptq.PercDamp);
}
