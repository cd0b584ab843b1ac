using Qllm.Quantization;
using Qllm.Quantization.Packed;
using Qllm.Tensors.Kernels;
using Qllm.Tests.Support;
using Qllm.Tests.Tensors;
using Xunit;

namespace Qllm.Tests.Quantization.Packed;

/// <summary>
/// The 4-bit decode GEMV on emitted AVX-512 VNNI code (<see cref="LowBit4VnniKernels"/>): its int8 slices rebuild
/// the activations to fp32 precision, and its panel results equal the fp32 intrinsics kernel's, which
/// <see cref="PackedLowBitLinearTests"/> proves against the dequantized dense layer.
/// </summary>
[Collection(KernelPathCollection.Name)]
public unsafe class LowBit4VnniTests
{
    [Fact]
    public void IsAvailableWhereTheCpuHasVnni()
    {
        // On the project's machines (Zen 4) this is the decode path; elsewhere the fp32 kernel runs, and the rest is moot.
        Assert.Equal(KernelSelector.HasAvx512Vnni && OperatingSystem.IsLinux(), LowBit4VnniKernels.IsAvailable);
    }

    [Fact]
    public void SlicesRebuildTheActivationsToFloatPrecision()
    {
        // Groups of 2, 16 (with an outlier 10⁴ times the rest), 1 (all zero), 1 and 0 blocks.
        int[] groupBlocks = [0, 2, 18, 19, 20, 20];
        float[] x = DeterministicWeights.Generate("slices", 20 * 8, 3f);
        x[40] = 3e4f;
        x.AsSpan(18 * 8, 8).Clear();
        var slices = new sbyte[LowBit4VnniKernels.SliceBytes(20)];
        var sigmas = new float[15];
        fixed (float* px = x, ps = sigmas)
        fixed (int* pg = groupBlocks)
        fixed (sbyte* psl = slices)
            LowBit4VnniKernels.Slice(px, pg, 5, psl, ps);
        for (int g = 0; g < 4; g++)
        {
            double max = 0;
            for (int k = groupBlocks[g] * 8; k < groupBlocks[g + 1] * 8; k++) max = Math.Max(max, Math.Abs(x[k]));
            Assert.Equal((float)(max / 127), sigmas[3 * g], 6);
            for (int k = groupBlocks[g] * 8; k < groupBlocks[g + 1] * 8; k++)
            {
                // Slice i is an array of 8 bytes a block: step t = k % 8 at 4·(t & 1) + (t >> 1) (k-steps 0, 2, 4, 6, 1, 3, 5, 7).
                int t = k % 8, at = (k / 8) * 8 + 4 * (t & 1) + (t >> 1), stride = 20 * 8;
                double rebuilt = (double)sigmas[3 * g] * slices[at] + (double)sigmas[3 * g + 1] * slices[at + stride] + (double)sigmas[3 * g + 2] * slices[at + 2 * stride];
                Assert.InRange(Math.Abs(rebuilt - x[k]), 0, 0.5001 * sigmas[3 * g + 2] + 1e-30);
                Assert.True(slices[at] >= -127 && slices[at + stride] >= -127 && slices[at + 2 * stride] >= -127, $"byte −128 at {k}");
            }
        }
        Assert.Equal(0, sigmas[6]); // group 2, all zero
        for (int i = 0; i < 3; i++) Assert.All(slices.AsSpan(i * 160 + 18 * 8, 8).ToArray(), b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(128, false, false)]
    [InlineData(32, true, false)]
    [InlineData(32, true, true)]
    [InlineData(-1, false, false)]
    public void PanelsEqualTheFloatKernel(int group, bool actOrder, bool unusedGroup)
    {
        if (!LowBit4VnniKernels.IsAvailable) return;
        const int rows = 64, columns = 520;
        var weight = LowBitWeights.Make(rows, columns, new QuantSpec(4, false, group), actOrder);
        // A g_idx may leave a group without columns: its blocks are none, and the emitted loop must skip it, not
        // run 2³² times.
        if (unusedGroup) weight = weight with { GroupIndex = weight.GroupIndex!.Select(g => g == 1 ? 0 : g).ToArray() };
        var panels = new LowBitPanels(weight);
        if (unusedGroup) Assert.Equal(panels.GroupBlocks[1], panels.GroupBlocks[2]);
        float[] input = DeterministicWeights.Generate("vnni-x", columns, 2f);
        input[17] = 400f; // an outlier: the other activations of its group keep only ~2⁻¹⁵ of their own size in slice 1
        var gathered = new float[panels.PaddedColumns];
        var sums = new float[panels.Groups];
        LowBitGather.Row(panels, input, gathered, sums);
        var slices = new sbyte[LowBit4VnniKernels.SliceBytes(panels.Blocks)];
        var sigmas = new float[3 * panels.Groups];
        var vnni = new float[32];
        var reference = new float[32];
        fixed (float* x = gathered, s = sums, sg = sigmas, scales = panels.Scales, zeros = panels.Zeros, yv = vnni, yr = reference)
        fixed (sbyte* sl = slices)
        fixed (uint* codes = panels.Codes)
        fixed (int* groupBlocks = panels.GroupBlocks)
        {
            LowBit4VnniKernels.Slice(x, groupBlocks, panels.Groups, sl, sg);
            for (int panel = 0; panel < panels.Panels; panel++)
            {
                uint* panelCodes = codes + (long)panel * panels.Blocks * 32;
                long vectors = (long)panel * panels.Groups * 32;
                LowBit4VnniKernels.Gemv32(sl, sg, s, panelCodes, groupBlocks, panels.Groups, scales + vectors, zeros + vectors, yv);
                LowBitKernel.Gemv32(KernelPath.Avx512, x, panels.PaddedColumns, s, 1, panelCodes, groupBlocks, panels.Groups, 4, scales + vectors, zeros + vectors, yr);
                for (int i = 0; i < 32; i++)
                {
                    int o = panel * 32 + i;
                    double magnitude = LowBitWeights.TermMagnitude(weight, input, o); // as PackedLowBitLinearTests bounds them
                    Assert.True(Math.Abs(vnni[i] - reference[i]) <= 2e-6 * magnitude, $"g{group} act={actOrder} unused={unusedGroup} row {o}: {vnni[i]} vs {reference[i]} (M = {magnitude})");
                }
            }
        }
    }
}
