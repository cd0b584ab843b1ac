using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
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
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Most new tokens to generate.", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature", "-t") { Description = "Sampling temperature; 0 = greedy (argmax).", DefaultValueFactory = _ => 1.0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling: keep the smallest set of tokens whose probability exceeds P (1 = off).", DefaultValueFactory = _ => 0.9f };
        var seed = new Option<ulong>("--seed", "-s") { Description = "Random seed (llama2.c's xorshift generator).", DefaultValueFactory = _ => 42UL };

        var command = new Command("generate", "Generate text from a prompt (greedy with --temperature 0). Stops at EOS/BOS or after --max-tokens.")
        {
            prompt, maxTokens, temperature, topP, seed,
        };
        common.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            int n = result.GetValue(maxTokens);
            float t = result.GetValue(temperature), p = result.GetValue(topP);
            if (n < 1) throw new QllmException($"--max-tokens must be at least 1, got {n}.");
            if (t < 0 || float.IsNaN(t)) throw new QllmException($"--temperature must be 0 or more, got {t}.");
            if (p < 0 || p > 1 || float.IsNaN(p)) throw new QllmException($"--top-p must be between 0 and 1, got {p}.");
            var transform = common.ReadTransform(result);
            var (loaded, loadSeconds) = common.Load(result);
            transform.Apply(loaded.Model);

            var generator = new TextGenerator(loaded.Model, loaded.RequireTokenizer());
            var options = new GenerationOptions(n, t, p, result.GetValue(seed));
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
                        ["prompt"] = result.GetValue(prompt), ["max_tokens"] = n, ["temperature"] = t, ["top_p"] = p,
                        ["seed"] = result.GetValue(seed), ["quantization"] = transform.ToJson(),
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
