using Qllm.Formats.Safetensors;
using Xunit;

namespace Qllm.Tests.Formats.Safetensors;

/// <summary>Every malformed file fails with a ModelFormatException naming the file and, where there is one, the tensor.</summary>
public class SafetensorsMalformedTests
{
    private static void AssertOpenFails(byte[] bytes, string? tensor, string? detail = null)
    {
        using var dir = new TempDir();
        string path = dir.File("bad.safetensors");
        File.WriteAllBytes(path, bytes);
        RawSafetensors.AssertFails(() => SafetensorsFile.Open(path).Dispose(), path, tensor, detail);
    }

    private static string Entry(string name, string dtype, string shape, string offsets) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":{offsets}}}";

    [Fact]
    public void MissingFile()
    {
        using var dir = new TempDir();
        string path = dir.File("absent.safetensors");
        RawSafetensors.AssertFails(() => SafetensorsFile.Open(path), path, null, "does not exist");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void ShorterThanTheLengthPrefix(int length) => AssertOpenFails(new byte[length], null, "too short");

    [Fact]
    public void HeaderLengthPastTheEndOfTheFile() =>
        AssertOpenFails(RawSafetensors.Build("{}", headerLength: 100), null, "runs past the end of the file");

    [Fact]
    public void HeaderLengthBeyondTheLimit() =>
        AssertOpenFails(RawSafetensors.Build("{}", headerLength: ulong.MaxValue), null, "limit");

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{\"a\":")]
    [InlineData("{\"a\":1,}")]
    [InlineData("")]
    public void HeaderIsNotJson(string header) => AssertOpenFails(RawSafetensors.Build(header), null, "not valid JSON");

    [Fact]
    public void HeaderIsNotUtf8() =>
        AssertOpenFails(RawSafetensors.Build([(byte)'{', (byte)'"', 0xFF, 0xFE, (byte)'"', (byte)':', (byte)'1', (byte)'}']), null, "UTF-8");

    [Theory]
    [InlineData("[1,2,3]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void HeaderIsNotAnObject(string header) => AssertOpenFails(RawSafetensors.Build(header), null, "not a JSON object");

    [Fact]
    public void UnknownDType() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F31", "[1]", "[0,4]") + "}", new byte[4]), "w", "unknown dtype \"F31\"");

    [Fact]
    public void NegativeDimension() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "[-1, 2]", "[0,0]") + "}"), "w", "negative dimension");

    [Theory]
    [InlineData("[0,8]")]      // end past the data section
    [InlineData("[8,8]")]      // begin past it too
    [InlineData("[4,0]")]      // begin after end
    [InlineData("[-4,0]")]
    [InlineData("[0]")]
    [InlineData("[0,4,8]")]
    [InlineData("[0,1.5]")]
    [InlineData("[0,18446744073709551616]")]
    [InlineData("\"0,4\"")]
    public void OffsetsOutOfRangeOrMalformed(string offsets) =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "[1]", offsets) + "}", new byte[4]), "w", "data_offsets");

    [Fact]
    public void DataSectionCutShort()
    {
        using var dir = new TempDir();
        string path = dir.File("cut.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsWriter.Float32("a", [4], [1f, 2f, 3f, 4f]), SafetensorsWriter.Float32("b", [4], [5f, 6f, 7f, 8f])]);
        byte[] whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..^3]);
        var e = RawSafetensors.AssertFails(() => SafetensorsFile.Open(path), path, "b", "truncated");
        Assert.Contains("[16, 32]", e.Message);
    }

    [Fact]
    public void OverlappingTensors() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[4,12]") + "}", new byte[12]),
            "b", "overlap");

    [Fact]
    public void TensorNestedInsideAnotherOverlaps() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("outer", "F32", "[4]", "[0,16]") + "," + Entry("inner", "U8", "[2]", "[4,6]") + "}", new byte[16]),
            "inner", "'outer'");

    [Fact]
    public void EmptyTensorsDoNotOverlap()
    {
        using var dir = new TempDir();
        string path = dir.File("ok.safetensors");
        File.WriteAllBytes(path, RawSafetensors.Build(
            "{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("e", "F32", "[0]", "[4,4]") + "}", new byte[8]));
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(2, file.Tensors.Count);
    }

    [Theory]
    [InlineData("F32", "[3]", "[0,8]")]
    [InlineData("BF16", "[2,2]", "[0,4]")]
    [InlineData("I64", "[1]", "[0,4]")]
    public void ByteLengthDisagreesWithDTypeAndShape(string dtype, string shape, string offsets) =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", dtype, shape, offsets) + "}", new byte[16]), "w", "needs");

    [Fact]
    public void ShapeProductOverflows() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "[4294967296, 4294967296]", "[0,0]") + "}"), "w", "too many elements");

    [Fact]
    public void ShapeNotAnArrayOfIntegers()
    {
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "4", "[0,16]") + "}", new byte[16]), "w", "\"shape\"");
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "[\"4\"]", "[0,16]") + "}", new byte[16]), "w", "\"shape\"");
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "F32", "[2.5]", "[0,16]") + "}", new byte[16]), "w", "\"shape\"");
    }

    [Theory]
    [InlineData("{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", "\"shape\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", "\"data_offsets\"")]
    [InlineData("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", "\"dtype\"")]
    [InlineData("{\"w\":[1,2]}", "not an object")]
    [InlineData("{\"w\":null}", "not an object")]
    public void TensorEntryMissingOrMistypedFields(string header, string detail) =>
        AssertOpenFails(RawSafetensors.Build(header, new byte[4]), "w", detail);

    [Fact]
    public void DuplicateTensorName() =>
        AssertOpenFails(RawSafetensors.Build("{" + Entry("w", "U8", "[1]", "[0,1]") + "," + Entry("w", "U8", "[1]", "[1,2]") + "}", new byte[2]),
            "w", "more than once");

    [Theory]
    [InlineData("{\"__metadata__\":{\"a\":1}}")]
    [InlineData("{\"__metadata__\":{\"a\":null}}")]
    [InlineData("{\"__metadata__\":[\"a\"]}")]
    [InlineData("{\"__metadata__\":\"a\"}")]
    public void MetadataThatIsNotAStringMap(string header) => AssertOpenFails(RawSafetensors.Build(header), null, "__metadata__");

    [Fact]
    public void PathIsAFolder()
    {
        using var dir = new TempDir();
        RawSafetensors.AssertFails(() => SafetensorsFile.Open(dir.Path), dir.Path, null);
    }
}
