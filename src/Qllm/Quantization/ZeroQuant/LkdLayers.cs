using Qllm.Common;

namespace Qllm.Quantization.ZeroQuant;

/// <summary>Which blocks LKD trains: --lkd-layers all, last, or a comma-separated list of 0-based block indices.</summary>
public sealed record LkdLayers(string Text)
{
    public static LkdLayers Parse(string text)
    {
        string value = text.Trim().ToLowerInvariant();
        if (value is "all" or "last") return new LkdLayers(value);
        foreach (string part in value.Split(','))
            if (!int.TryParse(part.Trim(), out int index) || index < 0)
                throw new QllmException($"--lkd-layers: '{text}' is not all, last, or a comma-separated list of block indices (0-based).");
        return new LkdLayers(value);
    }

    /// <summary>The chosen block indices of a model with <paramref name="blocks"/> blocks; an index past the end is an error.</summary>
    public IReadOnlySet<int> Resolve(int blocks)
    {
        if (Text == "all") return Enumerable.Range(0, blocks).ToHashSet();
        if (Text == "last") return new HashSet<int> { blocks - 1 };
        var indices = Text.Split(',').Select(p => int.Parse(p.Trim())).ToHashSet();
        if (indices.Max() >= blocks) throw new QllmException($"--lkd-layers: block {indices.Max()} does not exist (the model has {blocks} blocks, 0..{blocks - 1}).");
        return indices;
    }
}
