using Qllm.Common;
using Qllm.Formats.Safetensors;
using Qllm.Quantization;

namespace Qllm.Formats.Gptq;

/// <summary>
/// Reads one GPTQ-packed linear layer (<c>{name}.qweight</c>, <c>.qzeros</c>, <c>.scales</c>, <c>.g_idx</c>) into a
/// <see cref="QuantizedWeight"/>, checking every shape against the layer's size, the bits and the group size so
/// that a mismatch is reported with the file and tensor rather than as wrong numbers.
/// </summary>
public sealed class GptqLayerReader(SafetensorsCheckpoint weights, string folder, GptqCheckpointInfo info)
{
    public QuantizedWeight Read(string name, int outFeatures, int inFeatures)
    {
        int bits = info.Bits;
        int groupSize = info.GroupSize > 0 ? info.GroupSize : inFeatures;
        int groups = (inFeatures + groupSize - 1) / groupSize;

        int[] qweight = ReadInt32(name + ".qweight", GptqPacking.PackedLength(inFeatures, bits), outFeatures);
        int[] qzeros = ReadInt32(name + ".qzeros", groups, GptqPacking.PackedLength(outFeatures, bits));
        float[] scalesByGroup = ReadFloat(name + ".scales", groups, outFeatures);
        int[]? groupIndex = weights.Contains(name + ".g_idx") ? ReadInt32(name + ".g_idx", inFeatures) : null;
        if (groupIndex != null)
        {
            int bad = Array.FindIndex(groupIndex, g => (uint)g >= (uint)groups);
            if (bad >= 0)
                throw new ModelFormatException(weights.FileOf(name + ".g_idx"), $"column {bad} names group {groupIndex[bad]}, but there are {groups} groups", name + ".g_idx");
            // The contiguous layout needs no table: leaving it null lets packed kernels take their fast path.
            if (IsContiguous(groupIndex, groupSize)) groupIndex = null;
        }

        byte[] codes = GptqPacking.UnpackQWeight(qweight, outFeatures, inFeatures, bits);
        float[] zeros = GptqPacking.UnpackQZeros(qzeros, outFeatures, groups, bits, info.ZeroOffset);
        var scales = new float[outFeatures * groups];   // [groups, out] on disk, [out, groups] in QuantizedWeight
        for (int g = 0; g < groups; g++)
            for (int r = 0; r < outFeatures; r++) scales[r * groups + g] = scalesByGroup[g * outFeatures + r];
        return new QuantizedWeight(outFeatures, inFeatures, info.Spec, codes, scales, zeros, groupIndex);
    }

    private static bool IsContiguous(int[] groupIndex, int groupSize)
    {
        for (int c = 0; c < groupIndex.Length; c++)
            if (groupIndex[c] != c / groupSize) return false;
        return true;
    }

    private int[] ReadInt32(string tensor, params long[] shape)
    {
        var info = Check(tensor, shape);
        if (info.DType != TensorDType.I32)
            throw new ModelFormatException(weights.FileOf(tensor), $"dtype {info.DType} is not the int32 GPTQ stores here", tensor);
        return weights.ReadInt32(tensor);
    }

    private float[] ReadFloat(string tensor, params long[] shape)
    {
        Check(tensor, shape);
        return weights.ReadFloat32(tensor);
    }

    private TensorInfo Check(string tensor, long[] shape)
    {
        if (!weights.Contains(tensor))
        {
            string detail = tensor.EndsWith(".qweight", StringComparison.Ordinal) && weights.Contains(tensor[..^8] + ".weight")
                ? "missing tensor (the layer is stored unquantized, but config.json declares a GPTQ checkpoint)"
                : "missing tensor";
            throw new ModelFormatException(folder, detail, tensor);
        }
        var stored = weights.Info(tensor);
        if (!stored.Shape.SequenceEqual(shape))
            throw new ModelFormatException(weights.FileOf(tensor),
                $"shape {stored.ShapeText} does not match the {TensorInfo.FormatShape(shape)} that {info.Bits}-bit GPTQ with group size {info.GroupSize} gives this layer",
                tensor);
        return stored;
    }
}
