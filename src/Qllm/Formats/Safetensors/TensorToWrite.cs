namespace Qllm.Formats.Safetensors;

/// <summary>
/// A tensor for <see cref="SafetensorsWriter"/>: <paramref name="Data"/> holds the elements in
/// row-major order as little-endian bytes, exactly element size × product(shape) of them.
/// <see cref="SafetensorsWriter.Float32"/>, <see cref="SafetensorsWriter.BFloat16"/>,
/// <see cref="SafetensorsWriter.Float16"/> and <see cref="SafetensorsWriter.Int32"/> build one from values.
/// </summary>
public sealed record TensorToWrite(string Name, TensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data);
