using System.Buffers;
using System.Buffers.Binary;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;
using Qllm.Common;

namespace Qllm.Formats.Safetensors;

/// <summary>
/// Writes safetensors files (8-byte little-endian header length N, N bytes of JSON header, then
/// the data) and sharded Hugging Face checkpoint folders. Every file is written atomically
/// through <see cref="AtomicFile"/>.
/// </summary>
public static partial class SafetensorsWriter
{
    /// <summary>
    /// Writes one safetensors file.
    /// </summary>
    /// <remarks>
    /// Layout, compatible with the reference implementation's reader:
    /// <list type="bullet">
    /// <item>The header JSON is padded with spaces to a multiple of 8 bytes, as the reference writer
    /// does, so the data section starts 8-byte aligned in the file.</item>
    /// <item>Tensors are stored back to back with no gaps (the reference reader rejects gaps), in
    /// the given order except that tensors with larger elements come first (stable). Every
    /// tensor therefore starts at a multiple of its element size, so a mapped tensor is naturally
    /// aligned. The reference writer similarly sorts by dtype.</item>
    /// </list>
    /// Errors in the arguments (duplicate names, data of the wrong length) are <see cref="ArgumentException"/>s.
    /// </remarks>
    public static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        Validate(tensors);

        // OrderBy is a stable sort: equal element sizes keep the caller's order.
        TensorToWrite[] layout = tensors.OrderByDescending(t => t.DType.ElementSize()).ToArray();
        byte[] header = BuildHeader(layout, metadata);

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (TensorToWrite tensor in layout)
                stream.Write(tensor.Data.Span);
        });
    }

    /// <summary>
    /// Writes a checkpoint folder the way Hugging Face does: tensors are packed in order into shards
    /// of at most <paramref name="maxShardBytes"/> data bytes (a larger tensor gets a shard of its
    /// own) named <c>model-00001-of-0000N.safetensors</c>, with <c>model.safetensors.index.json</c>
    /// mapping each tensor to its shard. A single shard is written as <c>model.safetensors</c> and no index.
    /// </summary>
    /// <remarks>
    /// Files of a previous checkpoint that would take precedence or be picked up when the folder
    /// is read (a <c>model.safetensors</c>, an index, and <c>model-NNNNN-of-NNNNN.safetensors</c> shards
    /// not written this time) are deleted afterwards. Each file is atomic; the folder as a whole is not.
    /// <paramref name="metadata"/> goes into every file's header.
    /// </remarks>
    /// <returns>The paths of the safetensors files written.</returns>
    public static IReadOnlyList<string> WriteSharded(string dir, IReadOnlyList<TensorToWrite> tensors, long maxShardBytes,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(dir);
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxShardBytes);
        Validate(tensors);

        var shards = new List<List<TensorToWrite>> { new() };
        long current = 0;
        foreach (TensorToWrite tensor in tensors)
        {
            if (shards[^1].Count > 0 && current + tensor.Data.Length > maxShardBytes)
            {
                shards.Add([]);
                current = 0;
            }
            shards[^1].Add(tensor);
            current += tensor.Data.Length;
        }

        Directory.CreateDirectory(dir);
        string singlePath = Path.Combine(dir, SafetensorsCheckpoint.SingleFileName);
        string indexPath = Path.Combine(dir, SafetensorsCheckpoint.IndexFileName);
        var written = new List<string>();

        if (shards.Count == 1)
        {
            Write(singlePath, shards[0], metadata);
            written.Add(singlePath);
            DeleteIfExists(indexPath);
        }
        else
        {
            var weightMap = new List<(string Tensor, string File)>();
            for (int i = 0; i < shards.Count; i++)
            {
                string fileName = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
                string shardPath = Path.Combine(dir, fileName);
                Write(shardPath, shards[i], metadata);
                written.Add(shardPath);
                weightMap.AddRange(shards[i].Select(t => (t.Name, fileName)));
            }
            long totalSize = tensors.Sum(t => (long)t.Data.Length);
            AtomicFile.WriteAllBytes(indexPath, BuildIndex(totalSize, weightMap));
            DeleteIfExists(singlePath);
        }

        var keep = new HashSet<string>(written.Select(Path.GetFileName)!, StringComparer.Ordinal);
        foreach (string stale in Directory.GetFiles(dir, "model-*-of-*.safetensors"))
        {
            string name = Path.GetFileName(stale);
            if (ShardName().IsMatch(name) && !keep.Contains(name))
                File.Delete(stale);
        }
        return written;
    }

    /// <summary>A float32 tensor.</summary>
    public static TensorToWrite Float32(string name, long[] shape, ReadOnlySpan<float> values)
    {
        CheckCount(name, shape, values.Length);
        var bytes = new byte[values.Length * sizeof(float)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        return new TensorToWrite(name, TensorDType.F32, (long[])shape.Clone(), bytes);
    }

    /// <summary>A bfloat16 tensor, rounding each float to the nearest bfloat16 (ties to even), NaN kept as a quiet NaN.</summary>
    public static TensorToWrite BFloat16(string name, long[] shape, ReadOnlySpan<float> values)
    {
        CheckCount(name, shape, values.Length);
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), ToBFloat16Bits(values[i]));
        return new TensorToWrite(name, TensorDType.BF16, (long[])shape.Clone(), bytes);
    }

    /// <summary>A float16 tensor (IEEE binary16, round to nearest even; out of range becomes infinity).</summary>
    public static TensorToWrite Float16(string name, long[] shape, ReadOnlySpan<float> values)
    {
        CheckCount(name, shape, values.Length);
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(2 * i), (Half)values[i]);
        return new TensorToWrite(name, TensorDType.F16, (long[])shape.Clone(), bytes);
    }

    /// <summary>An int32 tensor.</summary>
    public static TensorToWrite Int32(string name, long[] shape, ReadOnlySpan<int> values)
    {
        CheckCount(name, shape, values.Length);
        var bytes = new byte[values.Length * sizeof(int)];
        for (int i = 0; i < values.Length; i++)
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4 * i), values[i]);
        return new TensorToWrite(name, TensorDType.I32, (long[])shape.Clone(), bytes);
    }

    /// <summary>
    /// float32 → bfloat16 bits, round to nearest, ties to even: add 0x7FFF plus the lowest kept bit,
    /// then truncate. Values that round past the largest finite bfloat16 become infinity, as they should.
    /// </summary>
    internal static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
            return (ushort)((bits >> 16) | 0x0040); // keep sign and payload top, force quiet
        bits += 0x7FFFu + ((bits >> 16) & 1u);
        return (ushort)(bits >> 16);
    }

    private static void CheckCount(string name, long[] shape, int count)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        long product = 1;
        foreach (long dim in shape)
        {
            if (dim < 0)
                throw new ArgumentException($"Tensor '{name}': negative dimension in shape {TensorInfo.FormatShape(shape)}.", nameof(shape));
            product = checked(product * dim);
        }
        if (product != count)
            throw new ArgumentException($"Tensor '{name}': shape {TensorInfo.FormatShape(shape)} has {product} elements but {count} values were given.", nameof(shape));
    }

    private static void Validate(IReadOnlyList<TensorToWrite> tensors)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorToWrite tensor in tensors)
        {
            ArgumentNullException.ThrowIfNull(tensor, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor.Name, nameof(tensors));
            ArgumentNullException.ThrowIfNull(tensor.Shape, nameof(tensors));
            if (tensor.Name == SafetensorsHeader.MetadataKey)
                throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for the metadata and cannot name a tensor.", nameof(tensors));
            if (!names.Add(tensor.Name))
                throw new ArgumentException($"Tensor '{tensor.Name}' is given more than once.", nameof(tensors));
            long count = 1;
            foreach (long dim in tensor.Shape)
            {
                if (dim < 0)
                    throw new ArgumentException($"Tensor '{tensor.Name}': negative dimension in shape {TensorInfo.FormatShape(tensor.Shape)}.", nameof(tensors));
                count = checked(count * dim);
            }
            long expected = checked(count * tensor.DType.ElementSize());
            if (tensor.Data.Length != expected)
                throw new ArgumentException(
                    $"Tensor '{tensor.Name}': {tensor.DType} with shape {TensorInfo.FormatShape(tensor.Shape)} needs {expected} bytes, but {tensor.Data.Length} were given.",
                    nameof(tensors));
        }
    }

    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Non-ASCII names stay readable UTF-8 rather than \u escapes; the header is not HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static byte[] BuildHeader(TensorToWrite[] layout, IReadOnlyDictionary<string, string>? metadata)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is not null)
            {
                json.WriteStartObject(SafetensorsHeader.MetadataKey);
                foreach (var (key, value) in metadata)
                    json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (TensorToWrite tensor in layout)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", tensor.DType.ToHeaderString());
                json.WriteStartArray("shape");
                foreach (long dim in tensor.Shape)
                    json.WriteNumberValue(dim);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.Data.Length;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }

        // Pad with spaces (valid JSON whitespace) so that 8 + N is a multiple of 8.
        int padded = (buffer.WrittenCount + 7) / 8 * 8;
        byte[] header = new byte[padded];
        buffer.WrittenSpan.CopyTo(header);
        header.AsSpan(buffer.WrittenCount).Fill((byte)' ');
        return header;
    }

    private static byte[] BuildIndex(long totalSize, List<(string Tensor, string File)> weightMap)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer, JsonOptions with { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach ((string tensor, string file) in weightMap)
                json.WriteString(tensor, file);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
            File.Delete(path);
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
