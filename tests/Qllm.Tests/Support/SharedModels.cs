using Qllm.Formats.Llama2c;
using Qllm.Models.Llama;

namespace Qllm.Tests.Support;

/// <summary>The real models in ../shared, loaded once per test run.</summary>
public static class SharedModels
{
    public static string Stories260KFolder => SharedData.Path("models", "stories260K");
    public static string Stories260KCheckpoint => SharedData.Path("models", "stories260K", "stories260K.bin");
    public static string Stories260KTokenizer => SharedData.Path("models", "stories260K", "tok512.bin");

    private static readonly Lazy<LlamaModel> Stories = new(() => Llama2cCheckpoint.Load(Stories260KCheckpoint));

    /// <summary>A shared, unmodified instance: tests that quantize or rewrite layers must load their own.</summary>
    public static LlamaModel Stories260K => Stories.Value;
}
