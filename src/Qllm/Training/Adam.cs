namespace Qllm.Training;

/// <summary>
/// Adam (Kingma &amp; Ba 2015, Algorithm 1) in torch.optim.Adam's form, without weight decay:
/// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², p ← p − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε).
/// The moments are kept in float64 so that tiny learning rates (LKD uses 5e-6) lose nothing to rounding there.
/// </summary>
public sealed class Adam
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly double[][] _first, _second;
    private readonly double _learningRate, _beta1, _beta2, _epsilon;

    public int Steps { get; private set; }

    public Adam(IReadOnlyList<Parameter> parameters, double learningRate, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        _parameters = parameters;
        _learningRate = learningRate;
        _beta1 = beta1;
        _beta2 = beta2;
        _epsilon = epsilon;
        _first = parameters.Select(p => new double[p.Value.Length]).ToArray();
        _second = parameters.Select(p => new double[p.Value.Length]).ToArray();
    }

    /// <summary>One update of every parameter from its accumulated gradient (which is left as it is).</summary>
    public void Step()
    {
        Steps++;
        double correction1 = 1 - Math.Pow(_beta1, Steps), correction2 = 1 - Math.Pow(_beta2, Steps);
        for (int p = 0; p < _parameters.Count; p++)
        {
            float[] value = _parameters[p].Value, gradient = _parameters[p].Gradient;
            double[] m = _first[p], v = _second[p];
            for (int i = 0; i < value.Length; i++)
            {
                double g = gradient[i];
                m[i] = _beta1 * m[i] + (1 - _beta1) * g;
                v[i] = _beta2 * v[i] + (1 - _beta2) * g * g;
                value[i] -= (float)(_learningRate * (m[i] / correction1) / (Math.Sqrt(v[i] / correction2) + _epsilon));
            }
        }
    }
}
