namespace Qllm.Training;

/// <summary>A trainable tensor: its value, which the optimizer updates in place, and the gradient that backward passes accumulate into.</summary>
public sealed class Parameter(string name, float[] value)
{
    public string Name { get; } = name;
    public float[] Value { get; } = value;
    public float[] Gradient { get; } = new float[value.Length];

    public void ZeroGradient() => Array.Clear(Gradient);
}
