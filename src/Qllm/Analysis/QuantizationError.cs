namespace Qllm.Analysis;

/// <summary>
/// The error of an approximation (quantized weights, activations or outputs) against its full-precision
/// reference, accumulated over a stream in float64: MSE = Σ (ref − approx)² / n and the signal-to-quantization-
/// noise ratio SQNR = 10·log10(Σ ref² / Σ (ref − approx)²) dB, the definitions of qllm-infer's
/// <c>lib/quantization/metric.py</c> (sums, so SQNR does not depend on how the stream was chunked).
/// </summary>
public sealed class QuantizationError
{
    public long Count { get; private set; }
    public double SignalSquares { get; private set; }
    public double ErrorSquares { get; private set; }

    public double Mse => Count == 0 ? double.NaN : ErrorSquares / Count;

    /// <summary>+∞ when the approximation is exact (the reference returns inf for identical tensors).</summary>
    public double SqnrDb => Sqnr(SignalSquares, ErrorSquares);

    public void Add(ReadOnlySpan<float> reference, ReadOnlySpan<float> approximation)
    {
        if (reference.Length != approximation.Length)
            throw new ArgumentException($"reference has {reference.Length} values, approximation {approximation.Length}.");
        double signal = 0, error = 0;
        for (int i = 0; i < reference.Length; i++)
        {
            double r = reference[i], e = r - approximation[i];
            signal += r * r;
            error += e * e;
        }
        SignalSquares += signal;
        ErrorSquares += error;
        Count += reference.Length;
    }

    public static double Sqnr(double signalSquares, double errorSquares) =>
        errorSquares == 0 ? double.PositiveInfinity : 10 * Math.Log10(signalSquares / errorSquares);
}
