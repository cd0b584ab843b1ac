using Qllm.Quantization.Gptq;
using Qllm.Tests.Support;

namespace Qllm.Tests.Quantization.Gptq;

/// <summary>Deterministic weights and calibration inputs for the GPTQ property tests.</summary>
internal static class GptqProblems
{
    /// <summary>
    /// Inputs driven by four shared factors plus a little noise, with per-column scales spanning 0.3–3: strongly
    /// correlated columns, the case where GPTQ's error feedback beats rounding each weight alone.
    /// </summary>
    public static float[] CorrelatedInputs(int tokens, int columns)
    {
        var factors = DeterministicWeights.Generate("gptq.test.factors", tokens * 4, 1f);
        var noise = DeterministicWeights.Generate("gptq.test.noise", tokens * columns, 0.1f);
        var mix = DeterministicWeights.Generate("gptq.test.mix", columns * 4, 1f);
        var x = new float[tokens * columns];
        for (int t = 0; t < tokens; t++)
            for (int c = 0; c < columns; c++)
            {
                float v = noise[t * columns + c];
                for (int f = 0; f < 4; f++) v += mix[c * 4 + f] * factors[t * 4 + f];
                x[t * columns + c] = v * (0.3f + 2.7f * c / columns);
            }
        return x;
    }

    public static HessianAccumulator Hessian(float[] x, int tokens, int columns)
    {
        var h = new HessianAccumulator(columns);
        h.Add(x, tokens);
        return h;
    }

    public static float[] Weight(int rows, int columns) => DeterministicWeights.Generate("gptq.test.weight", rows * columns, 0.5f);

    /// <summary>GPTQ's objective: tr((W − Q)·H·(W − Q)ᵀ), the output error on the calibration inputs (H = 2XᵀX/n).</summary>
    public static double ProxyLoss(float[] w, float[] q, double[] h, int rows, int columns)
    {
        double total = 0;
        var delta = new double[columns];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < columns; c++) delta[c] = w[r * columns + c] - q[r * columns + c];
            for (int i = 0; i < columns; i++)
            {
                double row = 0;
                for (int j = 0; j < columns; j++) row += h[i * columns + j] * delta[j];
                total += delta[i] * row;
            }
        }
        return total;
    }
}
