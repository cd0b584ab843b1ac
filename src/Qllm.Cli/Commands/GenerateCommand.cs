using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Generation;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm generate</c>: continue a prompt, streaming the text to stdout.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var common = new ModelOptions();
        var prompt = new Option<string>("--prompt", "-p") { Description = "Text to continue (default: empty, i.e. start from BOS).", DefaultValueFactory = _ => "" };
        var sampling = new SamplingOptions("--max-tokens", "Most new tokens to generate.", defaultTemperature: 1.0f);

        var command = new Command("generate", "Generate text from a prompt (greedy with --temperature 0). Stops at EOS/BOS or after --max-tokens.")
        {
            prompt,
        };
        sampling.AddTo(command);
        common.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var options = sampling.Read(result);
            var transform = common.ReadTransform(result);
            var (loaded, loadSeconds) = common.Load(result);
            transform.Apply(loaded.Model);

            var generator = new TextGenerator(loaded.Model, loaded.RequireTokenizer());
            var generation = generator.Generate(result.GetValue(prompt)!, options, text => Console.Write(text));
            Console.WriteLine();
            ConsoleOutput.Info($"{generation.NewTokens.Length} tokens ({generation.StopReason}); prefill {generation.PrefillSeconds * 1000:F1} ms, decode {generation.DecodeTokensPerSecond:F1} tokens/s");

            if (result.GetValue(common.Output) is { } path)
                ResultsFile.Write(path, new JsonObject
                {
                    ["command"] = "generate",
                    ["environment"] = ModelSession.Environment(result.GetValue(common.Threads)),
                    ["model"] = ModelSession.Describe(loaded),
                    ["config"] = new JsonObject
                    {
                        ["prompt"] = result.GetValue(prompt), ["max_tokens"] = options.MaxNewTokens, ["temperature"] = options.Temperature,
                        ["top_p"] = options.TopP, ["seed"] = options.Seed, ["quantization"] = transform.ToJson(),
                    },
                    ["timings"] = new JsonObject
                    {
                        ["load_s"] = loadSeconds, ["prefill_s"] = generation.PrefillSeconds, ["decode_s"] = generation.DecodeSeconds,
                        ["decode_tokens_per_s"] = generation.DecodeTokensPerSecond,
                    },
                    ["results"] = new JsonObject
                    {
                        ["text"] = generation.Text, ["prompt_tokens"] = generation.PromptTokens.Length,
                        ["new_tokens"] = generation.NewTokens.Length, ["stop_reason"] = generation.StopReason,
                    },
                });
            return 0;
        }));
        return command;
    }
}
