using System.CommandLine;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Common;
using Qllm.Formats;
using Qllm.Generation;
using Qllm.Generation.Chat;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary>
/// <c>qllm chat</c>: talk to a model in its chat format, the reply streamed to stdout. With --prompt, one answer and exit
/// (what the seeds compare across quantization settings); otherwise a loop reading one message per line from stdin
/// (/reset forgets the conversation, /exit or end of input quits).
/// </summary>
public static class ChatCommand
{
    public static Command Create()
    {
        var common = new ModelOptions();
        var sampling = new SamplingOptions("--max-new-tokens", "Most tokens in one reply.", defaultTemperature: 0.7f);
        var prompt = new Option<string?>("--prompt", "-p") { Description = "Answer this one message and exit (non-interactive)." };
        var system = new Option<string?>("--system") { Description = "System message that opens the conversation." };
        var template = new Option<string?>("--chat-template")
        {
            Description = $"Chat format: {string.Join(", ", ChatTemplates.Names)} (default: recognised from tokenizer_config.json's chat_template; none without one).",
        };

        var command = new Command("chat", "Chat with a model using its chat template (LLaMA-2, LLaMA-3, ChatML, Phi-3), streaming the replies.")
        {
            prompt, system, template,
        };
        sampling.AddTo(command);
        common.AddTo(command);
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var options = sampling.Read(result);
            string? templateName = result.GetValue(template);
            if (templateName is not null && !ChatTemplates.Names.Contains(templateName))
                throw new QllmException($"--chat-template: '{templateName}' is not one of {string.Join(", ", ChatTemplates.Names)}.");
            var transform = common.ReadTransform(result);
            var (loaded, _) = common.Load(result);
            transform.Apply(loaded.Model);

            var (chatTemplate, source) = ChatTemplates.Resolve(templateName, ConfigFolders(loaded));
            ConsoleOutput.Info($"chat template: {chatTemplate.Name} ({source})");
            var session = new ChatSession(loaded.Model, loaded.RequireTokenizer(), chatTemplate, result.GetValue(system));

            if (result.GetValue(prompt) is { } message)
            {
                var reply = Answer(session, message, options);
                if (result.GetValue(common.Output) is { } path)
                    ResultsFile.Write(path, new JsonObject
                    {
                        ["command"] = "chat",
                        ["environment"] = ModelSession.Environment(result.GetValue(common.Threads)),
                        ["model"] = ModelSession.Describe(loaded),
                        ["config"] = new JsonObject
                        {
                            ["prompt"] = message, ["system"] = result.GetValue(system), ["chat_template"] = chatTemplate.Name,
                            ["max_new_tokens"] = options.MaxNewTokens, ["temperature"] = options.Temperature, ["top_p"] = options.TopP,
                            ["seed"] = options.Seed, ["quantization"] = transform.ToJson(),
                        },
                        ["results"] = new JsonObject
                        {
                            ["reply"] = reply.Completion, ["prompt_tokens"] = reply.PromptTokens.Length,
                            ["new_tokens"] = reply.NewTokens.Length, ["stop_reason"] = reply.StopReason,
                            ["decode_tokens_per_s"] = reply.DecodeTokensPerSecond,
                        },
                    });
                return 0;
            }
            Converse(session, options);
            return 0;
        }));
        return command;
    }

    /// <summary>tokenizer_config.json is looked for beside the tokenizer, then in the model's folder.</summary>
    private static IEnumerable<string> ConfigFolders(LoadedModel loaded)
    {
        if (loaded.TokenizerPath is { } tokenizer) yield return Directory.Exists(tokenizer) ? tokenizer : Path.GetDirectoryName(Path.GetFullPath(tokenizer))!;
        yield return Directory.Exists(loaded.ModelPath) ? loaded.ModelPath : Path.GetDirectoryName(Path.GetFullPath(loaded.ModelPath))!;
    }

    private static GenerationResult Answer(ChatSession session, string message, GenerationOptions options)
    {
        var reply = session.Reply(message, options, text => Console.Write(text));
        Console.WriteLine();
        ConsoleOutput.Info($"{reply.NewTokens.Length} tokens ({reply.StopReason}); prompt {reply.PromptTokens.Length} tokens, decode {reply.DecodeTokensPerSecond:F1} tokens/s");
        return reply;
    }

    private static void Converse(ChatSession session, GenerationOptions options)
    {
        ConsoleOutput.Info("type a message and press Enter; /reset starts over, /exit (or end of input) quits.");
        for (ulong turn = 0; ; turn++)
        {
            Console.Error.Write("> ");
            string? line = Console.ReadLine();
            if (line is null || line.Trim() == "/exit") return;
            if (line.Trim() == "/reset") { session.Reset(); continue; }
            if (line.Trim().Length == 0) continue;
            try { Answer(session, line, options with { Seed = options.Seed + turn }); }
            catch (QllmException e) { ConsoleOutput.Info(e.Message); }
        }
    }
}
