namespace Qllm.Models.Layers;

/// <summary>
/// A linear layer that can tell its bias (null when it has none), so that checkpoint writers can save the
/// bias of a layer whose weights they take from elsewhere (GPTQ codes) without knowing the layer's type.
/// </summary>
public interface IHasBias
{
    float[]? Bias { get; }
}
