namespace Qllm.Analysis;

/// <summary>
/// Min, max, mean, standard deviation and kurtosis of a stream of values, in float64 and bounded memory: each
/// chunk's central moments are computed exactly (two passes over the chunk), then merged into the running ones
/// with the pairwise update of Chan et al. (1979), extended to the 3rd and 4th moments by Pébay (2008, eq. 2.1–2.3).
/// Summing x, x², x³, x⁴ instead would cancel catastrophically when the mean is large against the spread.
/// </summary>
/// <remarks>
/// The definitions are those of qllm-infer's <c>lib/quantization/metric.py</c>: <see cref="Std"/> is torch's
/// <c>std()</c> (unbiased, divides by n − 1) and <see cref="ExcessKurtosis"/> is its <c>kurtosis()</c>,
/// m₄ / m₂² − 3 with population moments (Fisher's excess kurtosis: 0 for a normal distribution, as
/// <c>scipy.stats.kurtosis(bias=True)</c>).
/// </remarks>
public sealed class RunningMoments
{
    private double _mean, _m2, _m3, _m4; // Σ (x − mean)^k over everything seen, k = 2, 3, 4

    public long Count { get; private set; }
    public double Min { get; private set; } = double.PositiveInfinity;
    public double Max { get; private set; } = double.NegativeInfinity;

    /// <summary>max |x|.</summary>
    public double AbsMax => Count == 0 ? double.NaN : Math.Max(Math.Abs(Min), Math.Abs(Max));

    public double Mean => Count == 0 ? double.NaN : _mean;

    /// <summary>Sample standard deviation, √(Σ (x − mean)² / (n − 1)), as torch.Tensor.std().</summary>
    public double Std => Count < 2 ? double.NaN : Math.Sqrt(_m2 / (Count - 1));

    /// <summary>n·Σ(x − mean)⁴ / (Σ(x − mean)²)² − 3; NaN for a constant stream (0/0), as the reference.</summary>
    public double ExcessKurtosis => Count == 0 ? double.NaN : Count * _m4 / (_m2 * _m2) - 3;

    public void Add(ReadOnlySpan<float> values)
    {
        if (values.IsEmpty) return;
        long n = values.Length;
        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (float v in values)
        {
            sum += v;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        double mean = sum / n, m2 = 0, m3 = 0, m4 = 0;
        foreach (float v in values)
        {
            double d = v - mean, d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        Merge(n, mean, m2, m3, m4);
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
    }

    /// <summary>Pébay (2008) eq. 2.1–2.3: the moments of the union of this stream (a) and a chunk (b).</summary>
    private void Merge(long nb, double meanB, double m2B, double m3B, double m4B)
    {
        double na = Count, n = na + nb, delta = meanB - _mean, deltaN = delta / n;
        double m2 = _m2 + m2B + delta * deltaN * na * nb;
        double m3 = _m3 + m3B + delta * deltaN * deltaN * na * nb * (na - nb) + 3 * deltaN * (na * m2B - nb * _m2);
        double m4 = _m4 + m4B + delta * deltaN * deltaN * deltaN * na * nb * (na * na - na * nb + (double)nb * nb)
                    + 6 * deltaN * deltaN * (na * na * m2B + (double)nb * nb * _m2) + 4 * deltaN * (na * m3B - nb * _m3);
        _mean += deltaN * nb;
        _m2 = m2;
        _m3 = m3;
        _m4 = m4;
        Count += nb;
    }
}
