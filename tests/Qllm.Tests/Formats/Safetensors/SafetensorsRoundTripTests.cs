using System.Buffers.Binary;
using System.Text;
using Qllm.Formats.Safetensors;
using Xunit;

namespace Qllm.Tests.Formats.Safetensors;

public class SafetensorsRoundTripTests
{
    [Fact]
    public void Float32RoundTripsValuesShapesAndMetadata()
    {
        using var dir = new TempDir();
        string path = dir.File("a.safetensors");
        float[] matrix = Enumerable.Range(0, 12).Select(i => i * 0.25f - 1.5f).ToArray();
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "héllo \"quoted\"" };
        SafetensorsWriter.Write(path,
        [
            SafetensorsWriter.Float32("layer.weight", [3, 4], matrix),
            SafetensorsWriter.Float32("scalar", [], [42.5f]),
            SafetensorsWriter.Float32("empty", [0, 7], []),
        ], metadata);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(path, file.Path);
        Assert.Equal(3, file.Tensors.Count);
        Assert.Equal(["layer.weight", "scalar", "empty"], file.Names);
        Assert.Equal(metadata, file.Metadata);

        TensorInfo info = file.Tensors["layer.weight"];
        Assert.Equal(TensorDType.F32, info.DType);
        Assert.Equal([3L, 4L], info.Shape);
        Assert.Equal(12, info.ElementCount);
        Assert.Equal(48, info.ByteLength);
        Assert.Equal(matrix, file.ReadFloat32("layer.weight"));

        var destination = new float[12];
        file.ReadFloat32("layer.weight", destination);
        Assert.Equal(matrix, destination);
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("layer.weight", new float[11]));

        Assert.Empty(file.Tensors["scalar"].Shape);
        Assert.Equal(1, file.Tensors["scalar"].ElementCount);
        Assert.Equal([42.5f], file.ReadFloat32("scalar"));
        Assert.Equal(0, file.Tensors["empty"].ElementCount);
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Equal(0, file.GetBytes("empty").Length);

        ReadOnlySpan<byte> raw = file.GetBytes("layer.weight");
        Assert.Equal(48, raw.Length);
        Assert.Equal(matrix[5], BinaryPrimitives.ReadSingleLittleEndian(raw[20..]));
    }

    [Fact]
    public void Float16RoundTripsThroughHalf()
    {
        using var dir = new TempDir();
        string path = dir.File("h.safetensors");
        float[] values = [0.5f, -1.25f, 65504f, 1e-3f, 3.14159f, -0f, 1e-7f, 70000f];
        SafetensorsWriter.Write(path, [SafetensorsWriter.Float16("h", [2, 4], values)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(TensorDType.F16, file.Tensors["h"].DType);
        Assert.Equal([2L, 4L], file.Tensors["h"].Shape);
        float[] read = file.ReadFloat32("h");
        Assert.Equal(values.Select(v => (float)(Half)v).ToArray(), read);
        Assert.Equal(65504f, read[2]);
        Assert.Equal(float.PositiveInfinity, read[7]); // beyond the half range
        Assert.Equal(0x3800, BinaryPrimitives.ReadUInt16LittleEndian(file.GetBytes("h"))); // 0.5 in binary16
    }

    [Fact]
    public void BFloat16RoundsToNearestEven()
    {
        using var dir = new TempDir();
        string path = dir.File("b.safetensors");
        // Hand-computed (bfloat16 keeps the top 16 bits of the float32):
        //   0x3F808000 = 1.00390625 is halfway between 0x3F80 (1.0) and 0x3F81; ties to even: 0x3F80.
        //   0x3F818000 = 1.01171875 is halfway between 0x3F81 and 0x3F82 (1.015625); ties to even: 0x3F82.
        //   0x3F808001 is just above halfway: 0x3F81 (1.0078125). 0x3F807FFF is just below: 0x3F80.
        //   float.MaxValue (0x7F7FFFFF) rounds up past the largest bfloat16: +inf (0x7F80).
        float[] values =
        [
            BitConverter.UInt32BitsToSingle(0x3F808000), BitConverter.UInt32BitsToSingle(0x3F818000),
            BitConverter.UInt32BitsToSingle(0x3F808001), BitConverter.UInt32BitsToSingle(0x3F807FFF),
            -2f, float.MaxValue, float.NaN,
        ];
        ushort[] expectedBits = [0x3F80, 0x3F82, 0x3F81, 0x3F80, 0xC000, 0x7F80];
        float[] expected = [1f, 1.015625f, 1.0078125f, 1f, -2f, float.PositiveInfinity];

        SafetensorsWriter.Write(path, [SafetensorsWriter.BFloat16("b", [7], values)]);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(TensorDType.BF16, file.Tensors["b"].DType);
        ReadOnlySpan<byte> raw = file.GetBytes("b");
        for (int i = 0; i < expectedBits.Length; i++)
            Assert.Equal(expectedBits[i], BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]));

        float[] read = file.ReadFloat32("b");
        Assert.Equal(expected, read[..6]);
        Assert.True(float.IsNaN(read[6]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(16)]
    [InlineData(37)]
    [InlineData(1000)]
    public void BFloat16WideningMatchesScalarAtEveryLengthAndUnalignedSource(int count)
    {
        using var dir = new TempDir();
        string path = dir.File("u.safetensors");
        // One U8 byte first puts the BF16 data at an odd offset, exercising unaligned loads.
        var data = new byte[1 + 2 * count];
        var rng = new Random(count);
        rng.NextBytes(data);
        string header = $"{{\"pad\":{{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}},\"x\":{{\"dtype\":\"BF16\",\"shape\":[{count}],\"data_offsets\":[1,{1 + 2 * count}]}}}}";
        File.WriteAllBytes(path, RawSafetensors.Build(header, data));

        using var file = SafetensorsFile.Open(path);
        float[] read = file.ReadFloat32("x");
        for (int i = 0; i < count; i++)
        {
            uint bits = (uint)BinaryPrimitives.ReadUInt16LittleEndian(data.AsSpan(1 + 2 * i)) << 16;
            Assert.Equal(bits, BitConverter.SingleToUInt32Bits(read[i]));
        }
    }

    [Fact]
    public void Int32RoundTripsAndNarrowerIntegersWiden()
    {
        using var dir = new TempDir();
        string path = dir.File("i.safetensors");
        int[] ids = [0, -1, int.MaxValue, int.MinValue, 7, 42];
        byte[] i64 = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(i64, -5);
        BinaryPrimitives.WriteInt64LittleEndian(i64.AsSpan(8), 123456789);
        byte[] big = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(big, 1L << 40);
        SafetensorsWriter.Write(path,
        [
            SafetensorsWriter.Int32("ids", [2, 3], ids),
            new TensorToWrite("i8", TensorDType.I8, [3], new byte[] { 0xFF, 0x7F, 0x80 }),
            new TensorToWrite("u8", TensorDType.U8, [2], new byte[] { 0xFF, 0x01 }),
            new TensorToWrite("i64", TensorDType.I64, [2], i64),
            new TensorToWrite("i64big", TensorDType.I64, [1], big),
        ]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(TensorDType.I32, file.Tensors["ids"].DType);
        Assert.Equal([2L, 3L], file.Tensors["ids"].Shape);
        Assert.Equal(ids, file.ReadInt32("ids"));
        Assert.Equal([-1, 127, -128], file.ReadInt32("i8"));
        Assert.Equal([255, 1], file.ReadInt32("u8"));
        Assert.Equal([-5, 123456789], file.ReadInt32("i64"));
        RawSafetensors.AssertFails(() => file.ReadInt32("i64big"), path, "i64big", "does not fit in int32");
    }

    [Fact]
    public void Float8TypesConvert()
    {
        using var dir = new TempDir();
        string path = dir.File("f8.safetensors");
        // e4m3fn: 0x38 = 2^(7-7) = 1; 0x7E = 1.75 * 2^8 = 448 (the largest); 0x01 = 1/8 * 2^-6; 0xC0 = -2; 0x7F = NaN.
        // e5m2: the top byte of a binary16: 0x3C = 1.0, 0x7C = +inf, 0xC0 = -2.
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("e4m3", TensorDType.F8_E4M3, [5], new byte[] { 0x38, 0x7E, 0x01, 0xC0, 0x7F }),
            new TensorToWrite("e5m2", TensorDType.F8_E5M2, [3], new byte[] { 0x3C, 0x7C, 0xC0 }),
        ]);
        using var file = SafetensorsFile.Open(path);
        float[] e4m3 = file.ReadFloat32("e4m3");
        Assert.Equal([1f, 448f, MathF.Pow(2, -9), -2f], e4m3[..4]);
        Assert.True(float.IsNaN(e4m3[4]));
        Assert.Equal([1f, float.PositiveInfinity, -2f], file.ReadFloat32("e5m2"));
    }

    [Fact]
    public void HeaderIsSpacePaddedAndTensorsAreContiguousAndAligned()
    {
        using var dir = new TempDir();
        string path = dir.File("p.safetensors");
        // Given order puts a 3-byte I8 tensor first; the writer moves larger elements first so that
        // every tensor starts at a multiple of its element size, without leaving gaps.
        SafetensorsWriter.Write(path,
        [
            new TensorToWrite("odd", TensorDType.I8, [3], new byte[] { 1, 2, 3 }),
            SafetensorsWriter.BFloat16("half", [3], [1f, 2f, 3f]),
            SafetensorsWriter.Float32("w", [5], [1f, 2f, 3f, 4f, 5f]),
            SafetensorsWriter.Int32("ids", [1], [9]),
            new TensorToWrite("d", TensorDType.F64, [1], BitConverter.GetBytes(2.5)),
        ]);

        byte[] bytes = File.ReadAllBytes(path);
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        string trimmed = header.TrimEnd(' ');
        Assert.EndsWith("}", trimmed);
        Assert.True(header.Length - trimmed.Length < 8);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(8 + n, file.DataOffset);
        Assert.Equal(0, file.DataOffset % 8);
        var ordered = file.Tensors.Values.OrderBy(t => t.Begin).ToArray();
        Assert.Equal(["d", "w", "ids", "half", "odd"], ordered.Select(t => t.Name));
        long expectedBegin = 0;
        foreach (TensorInfo t in ordered)
        {
            Assert.Equal(expectedBegin, t.Begin);
            Assert.Equal(0, (file.DataOffset + t.Begin) % t.DType.ElementSize());
            expectedBegin = t.End;
        }
        Assert.Equal(bytes.Length, file.DataOffset + expectedBegin);
        Assert.Equal([1, 2, 3], file.ReadInt32("odd"));
        Assert.Equal([2.5f], file.ReadFloat32("d"));
        Assert.Equal([1f, 2f, 3f], file.ReadFloat32("half"));
    }

    [Fact]
    public void WriterRejectsInconsistentArguments()
    {
        using var dir = new TempDir();
        string path = dir.File("x.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Float32("a", [2, 2], [1f, 2f, 3f]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [new TensorToWrite("a", TensorDType.F32, [2], new byte[7])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path,
            [SafetensorsWriter.Float32("a", [1], [1f]), SafetensorsWriter.Float32("a", [1], [2f])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [SafetensorsWriter.Float32("__metadata__", [1], [1f])]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void ReadingWithAnInconvertibleDTypeOrUnknownNameNamesTheTensor()
    {
        using var dir = new TempDir();
        string path = dir.File("c.safetensors");
        SafetensorsWriter.Write(path,
        [
            SafetensorsWriter.Int32("ids", [2], [1, 2]),
            SafetensorsWriter.Float32("w", [1], [1f]),
            new TensorToWrite("flags", TensorDType.BOOL, [1], new byte[] { 1 }),
        ]);
        using var file = SafetensorsFile.Open(path);
        RawSafetensors.AssertFails(() => file.ReadFloat32("ids"), path, "ids", "I32");
        RawSafetensors.AssertFails(() => file.ReadFloat32("ids", new float[2]), path, "ids");
        RawSafetensors.AssertFails(() => file.ReadInt32("w"), path, "w", "F32");
        RawSafetensors.AssertFails(() => file.ReadFloat32("flags"), path, "flags");
        RawSafetensors.AssertFails(() => file.GetBytes("nope"), path, "nope", "no such tensor");
        RawSafetensors.AssertFails(() => file.ReadFloat32("nope"), path, "nope");
        RawSafetensors.AssertFails(() => file.Info("nope"), path, "nope");
        Assert.False(file.Contains("nope"));
        Assert.True(file.Contains("w"));
    }

    [Fact]
    public void DisposedFileRefusesReads()
    {
        using var dir = new TempDir();
        string path = dir.File("d.safetensors");
        SafetensorsWriter.Write(path, [SafetensorsWriter.Float32("w", [1], [1f])]);
        var file = SafetensorsFile.Open(path);
        file.Dispose();
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("w").Length);
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("w"));
    }

    [Fact]
    public void ReadingOneSmallTensorOfALargeFileDoesNotCopyTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("big.safetensors");
        const long bigBytes = 64L << 20;
        string header = $"{{\"big\":{{\"dtype\":\"F32\",\"shape\":[{bigBytes / 4}],\"data_offsets\":[0,{bigBytes}]}}," +
                        $"\"small\":{{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[{bigBytes},{bigBytes + 16}]}}}}";
        byte[] prefix = RawSafetensors.Build(header);
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.Write(prefix);
            stream.SetLength(prefix.Length + bigBytes + 16); // sparse zeros for "big"
            stream.Position = prefix.Length + bigBytes;
            foreach (float v in new[] { 1f, 2f, 3f, 4f })
                stream.Write(BitConverter.GetBytes(v));
        }

        // Warm up (JIT, static tables) so that only the reading itself is measured.
        for (int round = 0; round < 2; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            float[] small;
            int bigLength;
            byte probe;
            using (var file = SafetensorsFile.Open(path))
            {
                small = file.ReadFloat32("small");
                ReadOnlySpan<byte> bigSpan = file.GetBytes("big");
                bigLength = bigSpan.Length;
                probe = bigSpan[bigLength - 1];
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal([1f, 2f, 3f, 4f], small);
            Assert.Equal(bigBytes, bigLength);
            Assert.Equal(0, probe);
            if (round == 1)
                Assert.True(allocated < 256 * 1024, $"opening and reading allocated {allocated} bytes of managed memory");
        }
    }
}
