using System.Runtime.Intrinsics;
using Qllm.Tensors;

namespace Qllm.Quantization.W8A8;

/// <summary>
/// Dynamic 8-bit activation quantization into integer codes: the grid of <see cref="ActivationQuantizer"/> (GPTQ's
/// min/max <see cref="QuantGrid"/>, per tensor or per token, symmetric or not), whose codes 0..255 and integral zero
/// point are exactly what the int8 GEMM consumes. So the packed layer multiplies the very values the fake-quant
/// simulation multiplies, s·(code − zero), and only the summation's rounding differs.
/// </summary>
public static class Int8ActivationQuantizer
{
    private const long ParallelThreshold = 1L << 16;

    /// <summary>Throws unless the kernel can run this spec: 8 bits, one grid per token or per tensor (no column groups).</summary>
    public static void Check(ActivationQuantSpec spec)
    {
        if (spec.Bits != 8) throw new ArgumentException($"the int8 kernel needs 8-bit activations, got {spec.Bits}.");
        if (spec.GroupSize > 0) throw new ArgumentException("the int8 kernel needs one activation grid per token or per tensor, not column groups.");
    }

    public static void Quantize(ReadOnlySpan<float> x, int rows, int columns, ActivationQuantSpec spec, Int8Activations into)
    {
        Check(spec);
        if (x.Length < (long)rows * columns) throw new ArgumentException($"activation has {x.Length} values, expected {rows}×{columns}.");
        into.Reset(rows, columns);
        if (rows == 0) return;
        QuantGrid? shared = spec.Granularity == ActivationGranularity.PerTensor ? QuantGrid.Find(x[..(rows * columns)], spec.MaxQ, spec.Symmetric) : null;
        unsafe
        {
            fixed (float* source = x)
            {
                var body = new Rows(source, columns, spec, shared, into);
                Compute.For(rows, (long)rows * columns >= ParallelThreshold, ref body);
            }
        }
    }

    /// <summary>One token's grid (or the tensor's) and its codes.</summary>
    private readonly unsafe struct Rows(float* x, int columns, ActivationQuantSpec spec, QuantGrid? shared, Int8Activations into) : IParallelBody
    {
        public void Run(int row)
        {
            float* source = x + (long)row * columns;
            var values = new ReadOnlySpan<float>(source, columns);
            var grid = shared ?? QuantGrid.Find(values, spec.MaxQ, spec.Symmetric);
            byte* codes = stackalloc byte[columns]; // at most Int8Panels.MaxColumns (33 KB), checked by Reset
            int k = Codes(source, columns, grid, codes);
            for (; k < columns; k++) codes[k] = (byte)grid.Code(values[k]);
            into.SetRow(row, new ReadOnlySpan<byte>(codes, columns), grid.Scale, (int)grid.Zero);
        }

        /// <summary>
        /// <see cref="QuantGrid.Code"/> 16 values at a time, the same operations in the same order (an IEEE division,
        /// round half to even, + zero, clamp to [0, maxq]), so the codes are the simulation's bit for bit. Returns how
        /// many were done; the caller finishes the tail with <see cref="QuantGrid.Code"/> itself.
        /// </summary>
        private static int Codes(float* x, int columns, QuantGrid grid, byte* codes)
        {
            if (!Vector256.IsHardwareAccelerated) return 0;
            var scale = Vector256.Create(grid.Scale);
            var zero = Vector256.Create(grid.Zero);
            var maxQ = Vector256.Create((float)grid.MaxQ);
            int k = 0;
            for (; k + 16 <= columns; k += 16)
            {
                var low = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.Load(x + k) / scale) + zero, Vector256<float>.Zero), maxQ));
                var high = Vector256.ConvertToInt32(Vector256.Min(Vector256.Max(Vector256.Round(Vector256.Load(x + k + 8) / scale) + zero, Vector256<float>.Zero), maxQ));
                var words = Vector256.Narrow(low, high).AsUInt16(); // 0..255: the narrowing keeps the values
                Vector256.Narrow(words, words).GetLower().Store(codes + k);
            }
            return k;
        }
    }
}
