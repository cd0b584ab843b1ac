using Qllm.Common;
using Qllm.Formats;
using Qllm.Formats.HuggingFace;
using Qllm.Formats.Llama2c;
using Qllm.Models;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats;

/// <summary>Exporting a loaded model as a Hugging Face folder and loading it again changes nothing.</summary>
public class HfModelExporterTests
{
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425, 330, 301, 345];

    [Fact]
    public void Stories260KFromLlama2cRoundTripsWithItsTokenizer()
    {
        var model = SharedModels.Stories260K;
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "hf");
        HfModelExporter.Export(folder, model, SharedModels.Stories260KTokenizer);

        var loaded = ModelLoader.Load(folder);
        Assert.Equal("huggingface", loaded.Format);
        Assert.Equal("LlamaForCausalLM", loaded.Model.Config.Architecture);
        Assert.Equal(model.Config with { Architecture = "LlamaForCausalLM" }, loaded.Model.Config with { EosTokenIds = model.Config.EosTokenIds });
        Assert.Equal(model.Forward(Tokens, 1, Tokens.Length), loaded.Model.Forward(Tokens, 1, Tokens.Length));

        // The llama2.c tokenizer has no HF form: it is copied as tokenizer.bin, where the loader finds it.
        Assert.Equal(Path.Combine(folder, "tokenizer.bin"), loaded.TokenizerPath);
        var original = Qllm.Tokenizers.TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
        Assert.Equal(original.Encode("Once upon a time"), loaded.RequireTokenizer().Encode("Once upon a time"));
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.bin"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        Assert.Single(Directory.GetFileSystemEntries(temp.Path));
    }

    [Theory]
    [InlineData("opt_pre_ln")]
    [InlineData("opt_post_ln_project")]
    [InlineData("qwen2_bias_tied")]
    [InlineData("mistral_gqa")]
    [InlineData("llama3_gqa_untied")]
    public void OracleModelsRoundTrip(string name)
    {
        using var temp = new TempFolder();
        string source = Path.Combine(temp.Path, "source"), folder = Path.Combine(temp.Path, "exported");
        Directory.CreateDirectory(source);
        HfOracleLogitsTests.WriteCheckpoint(HfOracleLogitsTests.Case(name), source);
        var model = HfModelLoader.Load(source);
        HfModelExporter.Export(folder, model);

        var loaded = HfModelLoader.Load(folder);
        Assert.Equal(model.Config, loaded.Config with { EosTokenIds = model.Config.EosTokenIds });
        Assert.Equal(model.Config.EosTokenIds, loaded.Config.EosTokenIds);
        int[] tokens = [2, 5, 9, 1, 17, 30, 4];
        Assert.Equal(model.Forward(tokens, 1, tokens.Length), loaded.Forward(tokens, 1, tokens.Length));
    }

    [Fact]
    public void HfTokenizerFilesAreCopied()
    {
        using var temp = new TempFolder();
        string tokenizer = Path.Combine(temp.Path, "tok");
        Directory.CreateDirectory(tokenizer);
        File.WriteAllText(Path.Combine(tokenizer, "tokenizer.json"), "{}");
        File.WriteAllText(Path.Combine(tokenizer, "tokenizer_config.json"), "{}");
        File.WriteAllText(Path.Combine(tokenizer, "special_tokens_map.json"), "{}");
        File.WriteAllText(Path.Combine(tokenizer, "unrelated.txt"), "");
        string folder = Path.Combine(temp.Path, "hf");
        HfModelExporter.Export(folder, TinyModels.Llama(), Path.Combine(tokenizer, "tokenizer.json"));
        Assert.Equal(["config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void ANonEmptyTargetIsRefusedAndLeftAlone()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("keep.txt"), "mine");
        var e = Assert.Throws<QllmException>(() => HfModelExporter.Export(temp.Path, TinyModels.Llama()));
        Assert.Contains("not empty", e.Message);
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
        Assert.Empty(Directory.GetDirectories(Path.GetDirectoryName(temp.Path)!, $".{Path.GetFileName(temp.Path)}.*"));
    }

    [Fact]
    public void AFailedWriteLeavesNothingBehind()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("notes.txt"), "not a tokenizer");
        string folder = Path.Combine(temp.Path, "hf");
        // The tokenizer is copied last, after the weights: its failure must remove the half-filled folder.
        var e = Assert.Throws<QllmException>(() => HfModelExporter.Export(folder, TinyModels.Llama(), temp.File("notes.txt")));
        Assert.Contains("notes.txt", e.Message);
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void AnEmptyTargetIsFilled()
    {
        using var temp = new TempFolder();
        HfModelExporter.Export(temp.Path, TinyModels.Llama());
        Assert.True(File.Exists(temp.File("model.safetensors")));
    }

    [Fact]
    public void Bf16LayersAreWrittenAsTheirValues()
    {
        var model = TinyModels.Llama();
        WeightStorage.Apply(model, "bf16");
        using var temp = new TempFolder();
        string folder = Path.Combine(temp.Path, "hf");
        HfModelExporter.Export(folder, model);
        int[] tokens = [1, 5, 9];
        Assert.Equal(model.Forward(tokens, 1, 3), HfModelLoader.Load(folder).Forward(tokens, 1, 3));
    }
}
