using System.Text.Json;
using Qllm.Formats.Safetensors;
using Xunit;

namespace Qllm.Tests.Formats.Safetensors;

public class SafetensorsCheckpointTests
{
    private static TensorToWrite[] FiveTensors() =>
        Enumerable.Range(0, 5)
            .Select(i => SafetensorsWriter.Float32($"layers.{i}.weight", [16, 16], Enumerable.Range(0, 256).Select(j => i * 1000f + j).ToArray()))
            .ToArray();

    [Fact]
    public void ShardedFolderRoundTrips()
    {
        using var dir = new TempDir();
        TensorToWrite[] tensors = FiveTensors();
        // 1024 bytes each, two per 2048-byte shard: shards of 2, 2 and 1.
        IReadOnlyList<string> written = SafetensorsWriter.WriteSharded(dir.Path, tensors, maxShardBytes: 2048,
            new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal(
            [dir.File("model-00001-of-00003.safetensors"), dir.File("model-00002-of-00003.safetensors"), dir.File("model-00003-of-00003.safetensors")],
            written);
        Assert.False(File.Exists(dir.File("model.safetensors")));
        using (JsonDocument index = JsonDocument.Parse(File.ReadAllText(dir.File("model.safetensors.index.json"))))
        {
            Assert.Equal(5 * 1024, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal("model-00002-of-00003.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("layers.3.weight").GetString());
        }

        using var checkpoint = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal(tensors.Select(t => t.Name), checkpoint.Names);
        Assert.Equal(3, checkpoint.Files.Count);
        Assert.Equal("pt", checkpoint.Files[0].Metadata["format"]);
        for (int i = 0; i < 5; i++)
        {
            string name = $"layers.{i}.weight";
            Assert.True(checkpoint.Contains(name));
            Assert.Equal(dir.File($"model-0000{i / 2 + 1}-of-00003.safetensors"), checkpoint.FileOf(name));
            Assert.Equal([16L, 16L], checkpoint.Info(name).Shape);
            float[] values = checkpoint.ReadFloat32(name);
            Assert.Equal(i * 1000f + 255f, values[255]);
            Assert.Equal(1024, checkpoint.GetBytes(name).Length);
        }
        Assert.False(checkpoint.Contains("lm_head.weight"));
        RawSafetensors.AssertFails(() => checkpoint.ReadFloat32("lm_head.weight"), dir.Path, "lm_head.weight", "no such tensor");
        RawSafetensors.AssertFails(() => checkpoint.FileOf("lm_head.weight"), dir.Path, "lm_head.weight");
    }

    [Fact]
    public void OneShardIsWrittenAsModelSafetensorsAndReplacesAShardedCheckpoint()
    {
        using var dir = new TempDir();
        SafetensorsWriter.WriteSharded(dir.Path, FiveTensors(), maxShardBytes: 2048);
        Assert.True(File.Exists(dir.File("model.safetensors.index.json")));

        IReadOnlyList<string> written = SafetensorsWriter.WriteSharded(dir.Path,
            [SafetensorsWriter.Int32("ids", [3], [1, 2, 3])], maxShardBytes: 1 << 20);
        Assert.Equal([dir.File("model.safetensors")], written);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));

        using var checkpoint = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal(["ids"], checkpoint.Names);
        Assert.Equal([1, 2, 3], checkpoint.ReadInt32("ids"));
        Assert.Equal(dir.File("model.safetensors"), checkpoint.FileOf("ids"));
    }

    [Fact]
    public void TensorLargerThanTheShardLimitGetsAShardOfItsOwn()
    {
        using var dir = new TempDir();
        SafetensorsWriter.WriteSharded(dir.Path, FiveTensors(), maxShardBytes: 100);
        using var checkpoint = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal(5, checkpoint.Files.Count);
        Assert.Equal(5, checkpoint.Count);
    }

    [Fact]
    public void MissingFolderOrWeights()
    {
        using var dir = new TempDir();
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path), dir.Path, null, "model.safetensors");
        string absent = dir.File("nothing-here");
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(absent), absent, null, "does not exist");
    }

    [Fact]
    public void MissingShardNamesTheShardAndTheTensor()
    {
        using var dir = new TempDir();
        SafetensorsWriter.WriteSharded(dir.Path, FiveTensors(), maxShardBytes: 2048);
        File.Delete(dir.File("model-00002-of-00003.safetensors"));
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path),
            dir.File("model-00002-of-00003.safetensors"), "layers.2.weight", "does not exist");
    }

    [Fact]
    public void IndexNamingATensorAbsentFromItsShard()
    {
        using var dir = new TempDir();
        SafetensorsWriter.WriteSharded(dir.Path, FiveTensors(), maxShardBytes: 2048);
        string indexPath = dir.File("model.safetensors.index.json");
        File.WriteAllText(indexPath, File.ReadAllText(indexPath).Replace(
            "\"layers.4.weight\": \"model-00003-of-00003.safetensors\"", "\"layers.4.weight\": \"model-00001-of-00003.safetensors\""));
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path),
            dir.File("model-00001-of-00003.safetensors"), "layers.4.weight", "does not hold it");
    }

    [Theory]
    [InlineData("not json", null, "not valid JSON")]
    [InlineData("[]", null, "not a JSON object")]
    [InlineData("{\"metadata\":{}}", null, "weight_map")]
    [InlineData("{\"weight_map\":{\"w\":3}}", "w", "file name")]
    [InlineData("{\"weight_map\":{\"w\":\"../model.safetensors\"}}", "w", "inside the folder")]
    [InlineData("{\"weight_map\":{\"w\":\"/etc/passwd\"}}", "w", "inside the folder")]
    public void MalformedIndex(string index, string? tensor, string detail)
    {
        using var dir = new TempDir();
        string indexPath = dir.File("model.safetensors.index.json");
        File.WriteAllText(indexPath, index);
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path), indexPath, tensor, detail);
    }

    [Fact]
    public void MalformedShardIsReportedByItsOwnPath()
    {
        using var dir = new TempDir();
        SafetensorsWriter.WriteSharded(dir.Path, FiveTensors(), maxShardBytes: 2048);
        string shard = dir.File("model-00003-of-00003.safetensors");
        File.WriteAllBytes(shard, [1, 2, 3]);
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path), shard, null, "too short");
    }

    [Fact]
    public void FolderWithoutIndexUsesDisjointFilesAndRejectsAmbiguousOnes()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("a.safetensors"), [SafetensorsWriter.Float32("x", [1], [1f])]);
        SafetensorsWriter.Write(dir.File("b.safetensors"), [SafetensorsWriter.Float32("y", [1], [2f])]);
        using (var checkpoint = SafetensorsCheckpoint.OpenFolder(dir.Path))
        {
            Assert.Equal(["x", "y"], checkpoint.Names);
            Assert.Equal([2f], checkpoint.ReadFloat32("y"));
            Assert.Equal(dir.File("b.safetensors"), checkpoint.FileOf("y"));
        }

        SafetensorsWriter.Write(dir.File("c.safetensors"), [SafetensorsWriter.Float32("x", [1], [3f])]);
        RawSafetensors.AssertFails(() => SafetensorsCheckpoint.OpenFolder(dir.Path), dir.File("c.safetensors"), "x", "ambiguous");
    }

    [Fact]
    public void ModelSafetensorsTakesPrecedenceOverOtherFiles()
    {
        using var dir = new TempDir();
        SafetensorsWriter.Write(dir.File("model.safetensors"), [SafetensorsWriter.Float32("x", [1], [1f])]);
        SafetensorsWriter.Write(dir.File("consolidated.safetensors"), [SafetensorsWriter.Float32("x", [1], [3f])]);
        using var checkpoint = SafetensorsCheckpoint.OpenFolder(dir.Path);
        Assert.Equal([1f], checkpoint.ReadFloat32("x"));
    }
}
