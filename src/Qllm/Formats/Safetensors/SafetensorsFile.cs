using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Qllm.Common;

namespace Qllm.Formats.Safetensors;

/// <summary>
/// A read-only, memory-mapped safetensors file.
/// </summary>
/// <remarks>
/// Layout (https://github.com/huggingface/safetensors, "Format"): an unsigned 64-bit little-endian
/// integer N, then N bytes of UTF-8 JSON (the header), then the byte buffer (the data section) that
/// the header's "data_offsets" index into. Nothing else.
///
/// The file is mapped rather than read, so a checkpoint of many gigabytes costs only address
/// space until a tensor is touched, and <see cref="GetBytes"/> hands out spans over the mapping
/// without copying. The header is validated completely by <see cref="Open"/>; afterwards every
/// access is in bounds. Reading is thread-safe; <see cref="Dispose"/> must not race with reads,
/// and spans from <see cref="GetBytes"/> must not be used after it.
///
/// The mapping is of the file as it was opened: replacing it through a rename (as
/// <see cref="AtomicFile"/> does) is safe, but truncating it in place while mapped makes reads
/// fault, as with any memory-mapped file.
/// </remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>
    /// Largest header accepted, as in the reference implementation (100 MB): real headers are
    /// kilobytes to a few megabytes, and the bound stops a corrupt length from causing a huge allocation.
    /// </summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Elements converted per step, so that no intermediate span exceeds 2 GiB whatever the dtype.</summary>
    private const int ConversionChunk = 1 << 24;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _data; // start of the data section; null once disposed
    private readonly Dictionary<string, TensorInfo> _tensors;

    /// <summary>The path the file was opened with (used in every error message).</summary>
    public string Path { get; }

    /// <summary>Length of the whole file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Absolute file offset of the data section (8 + N).</summary>
    public long DataOffset { get; }

    /// <summary>Tensors by name.</summary>
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The header's "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* data,
        long fileLength, long dataOffset, SafetensorsHeader.Parsed header)
    {
        Path = path;
        _map = map;
        _view = view;
        _data = data;
        FileLength = fileLength;
        DataOffset = dataOffset;
        _tensors = new Dictionary<string, TensorInfo>(header.Tensors.Count, StringComparer.Ordinal);
        foreach (TensorInfo t in header.Tensors)
            _tensors.Add(t.Name, t);
        Names = header.Tensors.Select(t => t.Name).ToArray();
        Metadata = header.Metadata;
    }

    /// <summary>Opens and validates a safetensors file. Any problem with the file is a <see cref="ModelFormatException"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);

        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 1, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ModelFormatException(path, "the file does not exist", null, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot open the file: {e.Message}", null, e);
        }

        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* basePointer = null;
        try
        {
            long length = stream.Length;
            if (length < 8)
                throw new ModelFormatException(path, $"the file is {length} bytes long, too short for the 8-byte header length that starts a safetensors file");

            // leaveOpen: false hands the stream to the mapping, which closes it.
            map = MemoryMappedFile.CreateFromFile(stream, mapName: null, capacity: 0, MemoryMappedFileAccess.Read,
                HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref basePointer);
            basePointer += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(basePointer, 8));
            if (headerLength > MaxHeaderBytes)
                throw new ModelFormatException(path, $"the header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit (the file is corrupt or not safetensors)");
            if ((long)headerLength > length - 8)
                throw new ModelFormatException(path, $"the header length {headerLength} runs past the end of the file ({length} bytes); the file may be truncated");

            long dataOffset = 8 + (long)headerLength;
            // The header is small (bounded above), so copying it for the JSON parser is cheap;
            // the data section is never copied.
            byte[] json = new ReadOnlySpan<byte>(basePointer + 8, (int)headerLength).ToArray();
            SafetensorsHeader.Parsed header = SafetensorsHeader.Parse(path, json, length - dataOffset);

            return new SafetensorsFile(path, map, view, basePointer + dataOffset, length, dataOffset, header);
        }
        catch (Exception e)
        {
            if (basePointer != null)
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            if (map is not null)
                map.Dispose();
            else
                stream.Dispose();
            if (e is ModelFormatException)
                throw;
            if (e is IOException or UnauthorizedAccessException)
                throw new ModelFormatException(path, $"cannot map the file: {e.Message}", null, e);
            throw;
        }
    }

    /// <summary>True when the file holds a tensor called <paramref name="name"/>.</summary>
    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor's description; an unknown name is a <see cref="ModelFormatException"/> naming it.</summary>
    public TensorInfo Info(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _tensors.TryGetValue(name, out TensorInfo? info)
            ? info
            : throw new ModelFormatException(Path, "no such tensor in this file", name);
    }

    /// <summary>
    /// The tensor's raw little-endian bytes, straight from the mapping (no copy). Valid until the
    /// file is disposed. Tensors of 2 GiB or more do not fit a span and are reported as an error.
    /// </summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        TensorInfo info = Info(name);
        if (info.ByteLength > int.MaxValue)
            throw new ModelFormatException(Path, $"the tensor is {info.ByteLength} bytes, too large for a single span; read it with ReadFloat32 or ReadInt32", name);
        return new ReadOnlySpan<byte>(DataPointer() + info.Begin, (int)info.ByteLength);
    }

    /// <summary>Reads a F32, F16, BF16, F64, F8_E4M3 or F8_E5M2 tensor as float32 (F64 is rounded).</summary>
    public float[] ReadFloat32(string name)
    {
        TensorInfo info = ConvertibleInfo(name, ElementConversion.CanReadAsFloat32(Info(name).DType), "float32");
        float[] values = GC.AllocateUninitializedArray<float>(CheckedArrayLength(info));
        ReadFloat32(info, values);
        return values;
    }

    /// <summary>Like <see cref="ReadFloat32(string)"/>, into a caller's buffer of exactly <see cref="TensorInfo.ElementCount"/> elements.</summary>
    public void ReadFloat32(string name, Span<float> destination)
    {
        TensorInfo info = ConvertibleInfo(name, ElementConversion.CanReadAsFloat32(Info(name).DType), "float32");
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {info.ElementCount} elements; the destination has {destination.Length}.", nameof(destination));
        ReadFloat32(info, destination);
    }

    /// <summary>Reads an integer tensor (I32, I16, I8, U16, U8; I64, U32, U64 when every value fits) as int32.</summary>
    public int[] ReadInt32(string name)
    {
        TensorInfo info = ConvertibleInfo(name, ElementConversion.CanReadAsInt32(Info(name).DType), "int32");
        int[] values = GC.AllocateUninitializedArray<int>(CheckedArrayLength(info));
        ReadInt32(info, values);
        return values;
    }

    /// <summary>Like <see cref="ReadInt32(string)"/>, into a caller's buffer of exactly <see cref="TensorInfo.ElementCount"/> elements.</summary>
    public void ReadInt32(string name, Span<int> destination)
    {
        TensorInfo info = ConvertibleInfo(name, ElementConversion.CanReadAsInt32(Info(name).DType), "int32");
        if (destination.Length != info.ElementCount)
            throw new ArgumentException($"Tensor '{name}' has {info.ElementCount} elements; the destination has {destination.Length}.", nameof(destination));
        ReadInt32(info, destination);
    }

    private void ReadFloat32(TensorInfo info, Span<float> destination)
    {
        byte* source = DataPointer() + info.Begin;
        int size = info.DType.ElementSize();
        for (int done = 0; done < destination.Length; done += ConversionChunk)
        {
            int count = Math.Min(ConversionChunk, destination.Length - done);
            ElementConversion.ToFloat32(info.DType, new ReadOnlySpan<byte>(source + (long)done * size, count * size), destination.Slice(done, count));
        }
    }

    private void ReadInt32(TensorInfo info, Span<int> destination)
    {
        byte* source = DataPointer() + info.Begin;
        int size = info.DType.ElementSize();
        for (int done = 0; done < destination.Length; done += ConversionChunk)
        {
            int count = Math.Min(ConversionChunk, destination.Length - done);
            long bad = ElementConversion.ToInt32(info.DType, new ReadOnlySpan<byte>(source + (long)done * size, count * size),
                destination.Slice(done, count), out long badValue);
            if (bad >= 0)
            {
                string shown = info.DType == TensorDType.U64 ? ((ulong)badValue).ToString() : badValue.ToString();
                throw new ModelFormatException(Path, $"element {done + bad} ({shown}) of this {info.DType} tensor does not fit in int32", info.Name);
            }
        }
    }

    private TensorInfo ConvertibleInfo(string name, bool convertible, string target)
    {
        TensorInfo info = Info(name);
        return convertible
            ? info
            : throw new ModelFormatException(Path, $"a {info.DType} tensor cannot be read as {target}", name);
    }

    private int CheckedArrayLength(TensorInfo info)
    {
        long count = info.ElementCount;
        return count <= Array.MaxLength
            ? (int)count
            : throw new ModelFormatException(Path, $"the tensor has {count} elements, more than one array can hold", info.Name);
    }

    private byte* DataPointer()
    {
        ObjectDisposedException.ThrowIf(_data == null, this);
        return _data;
    }

    /// <summary>Unmaps the file. Spans from <see cref="GetBytes"/> become invalid.</summary>
    public void Dispose()
    {
        ReleasePointer();
        _view.Dispose();
        _map.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// The acquired pointer holds a reference on the view's SafeHandle, which would otherwise keep
    /// the mapping alive until process exit when a caller forgets to dispose. SafeHandles are
    /// critical finalizers and run after this one, so releasing here is safe.
    /// </summary>
    ~SafetensorsFile() => ReleasePointer();

    private void ReleasePointer()
    {
        if (_data == null)
            return;
        _data = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
    }
}
