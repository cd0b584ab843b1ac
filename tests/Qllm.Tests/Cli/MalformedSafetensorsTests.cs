using System.Buffers.Binary;
using System.Text;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Cli;

/// <summary>Each kind of broken safetensors file ends qllm with one clear line naming the file, exit code 2, no stack trace.</summary>
public class MalformedSafetensorsTests
{
    private const string Config = """
        {"architectures":["LlamaForCausalLM"],"hidden_size":8,"intermediate_size":16,"num_hidden_layers":1,
         "num_attention_heads":2,"vocab_size":16,"max_position_embeddings":32}
        """;

    private static byte[] File(string header, int dataBytes)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    public static TheoryData<string, byte[], string> Cases() => new()
    {
        { "truncated file", [1, 2, 3], "" },
        { "header length past the end", BitConverter.GetBytes(1_000_000UL).Concat(new byte[16]).ToArray(), "" },
        { "overlapping offsets", File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12), "" },
        { "wrong byte count", File("""{"model.embed_tokens.weight":{"dtype":"F32","shape":[16,8],"data_offsets":[0,100]}}""", 100), "model.embed_tokens.weight" },
        { "unknown dtype", File("""{"model.norm.weight":{"dtype":"Q4","shape":[8],"data_offsets":[0,32]}}""", 32), "model.norm.weight" },
        { "not JSON", File("{not json", 0), "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void GivesOneClearErrorAndExitCode2(string description, byte[] content, string tensorNamed)
    {
        using var folder = new TempFolder();
        System.IO.File.WriteAllText(folder.File("config.json"), Config);
        System.IO.File.WriteAllBytes(folder.File("model.safetensors"), content);

        var result = CliProcess.Run("info", "--model", folder.Path);
        Assert.True(result.ExitCode == 2, $"{description}: exit {result.ExitCode}\n{result.StdErr}");
        Assert.Contains("model.safetensors", result.StdErr);
        Assert.Contains(tensorNamed, result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
        Assert.Single(result.StdErr.Trim().Split('\n'));
    }

    [Fact]
    public void AnUnsupportedArchitectureIsNamed()
    {
        using var folder = new TempFolder();
        System.IO.File.WriteAllText(folder.File("config.json"), """{"architectures":["GPTNeoXForCausalLM"]}""");
        var result = CliProcess.Run("info", "--model", folder.Path);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("GPTNeoXForCausalLM", result.StdErr);
    }
}
