using System.Text.Json.Nodes;
using Qllm.Formats.Safetensors;

namespace Qllm.Tests.Support;

/// <summary>Writes a Hugging Face model folder (config.json + model.safetensors) for tests.</summary>
public static class HfCheckpointWriter
{
    public static void Write(string folder, JsonObject config, IEnumerable<(string Name, long[] Shape, float[] Values)> tensors, TensorDType dtype = TensorDType.F32)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString());
        var list = tensors.Select(t => dtype switch
        {
            TensorDType.F32 => SafetensorsWriter.Float32(t.Name, t.Shape, t.Values),
            TensorDType.BF16 => SafetensorsWriter.BFloat16(t.Name, t.Shape, t.Values),
            TensorDType.F16 => SafetensorsWriter.Float16(t.Name, t.Shape, t.Values),
            _ => throw new ArgumentException($"unsupported test dtype {dtype}"),
        }).ToList();
        SafetensorsWriter.Write(Path.Combine(folder, "model.safetensors"), list);
    }
}

/// <summary>A temporary folder deleted when the test ends.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "qllm-test-" + Guid.NewGuid().ToString("N"));

    public TempFolder() => Directory.CreateDirectory(Path);

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
