using System.CommandLine;
using System.CommandLine.Help;
using Qllm.Cli.Commands;
using Qllm.Cli.Infrastructure;

namespace Qllm.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    public static Command BuildRoot()
    {
        // A plain command named "qllm" rather than RootCommand, whose name would be the assembly's (Qllm.Cli).
        var root = new Command("qllm",
            "qllm: post-training quantization and evaluation of LLMs on the CPU.\n" +
            "Load a Hugging Face or llama2.c model, quantize it, measure perplexity, generate text.\n\n" +
            "Examples:\n" +
            "  qllm info --model ../shared/models/stories260K\n" +
            "  qllm generate --model ../shared/models/stories260K --temperature 0\n" +
            "  qllm chat --model ../shared/models/stories260K --prompt \"Once upon a time\" --temperature 0\n" +
            "  qllm eval --model ../shared/models/stories260K --ppl wikitext2 --seqlen 512 --wbits 4\n" +
            "  qllm run --model ../shared/models/stories260K --method gptq --wbits 4 --calib-seqlen 512 --ppl wikitext2 --seqlen 512\n" +
            "  qllm quantize --model ../shared/models/stories260K --method gptq --wbits 4 --wgroup 32 --calib-seqlen 512 --save out/w4g32");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(CommonOptions.Verbose);
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(GenerateCommand.Create());
        root.Subcommands.Add(ChatCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        return root;
    }
}
