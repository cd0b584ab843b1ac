using System.CommandLine;
using Qllm.Cli.Infrastructure;
using Qllm.Reporting;

namespace Qllm.Cli.Commands;

/// <summary><c>qllm info</c>: architecture, parameter count and memory of a model.</summary>
public static class InfoCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var command = new Command("info", "Show a model's architecture, parameter count and memory.") { model, tokenizer };
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            var (loaded, _) = ModelSession.Load(result.GetValue(model)!, result.GetValue(tokenizer), 1);
            var c = loaded.Model.Config;
            var table = new MarkdownTable("property", "value")
                .AddRow("architecture", c.Architecture)
                .AddRow("format", loaded.Format)
                .AddRow("parameters", $"{loaded.Model.ParameterCount:N0}")
                .AddRow("weight memory", Bytes(loaded.Model.WeightBytes))
                .AddRow("layers", c.NumLayers)
                .AddRow("hidden size", c.HiddenSize)
                .AddRow("intermediate size", c.IntermediateSize)
                .AddRow("attention heads", c.NumHeads)
                .AddRow("key/value heads", c.NumKvHeads)
                .AddRow("head dim", c.HeadDim)
                .AddRow("vocabulary", c.VocabSize)
                .AddRow("max positions", c.MaxPositions)
                .AddRow("tied embeddings", c.TieWordEmbeddings)
                .AddRow("KV cache per token", Bytes(2L * c.NumLayers * c.KvDim * sizeof(float)))
                .AddRow("tokenizer", loaded.TokenizerPath ?? "none");
            if (c.Family == Models.ModelFamily.Llama)
                table.AddRow("rope theta", c.RopeTheta).AddRow("rope scaling", c.RopeScaling?.Type ?? "none");
            else
                table.AddRow("layer norm", c.DoLayerNormBefore ? "pre" : "post").AddRow("word embed dim", c.WordEmbedProjDim);
            Console.Write(table);
            return 0;
        }));
        return command;
    }

    public static string Bytes(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):F2} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):F2} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:F1} KiB",
        _ => $"{bytes} B",
    };
}
