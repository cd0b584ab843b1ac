using Qllm.Common;

namespace Qllm.Quantization;

/// <summary>
/// A weight quantization grid: bits, symmetric or asymmetric, and the group of input columns that
/// shares a scale (−1 = one scale per output channel, the whole row; the last group may be partial).
/// <see cref="MseClip"/> searches a shrink of the min/max range that minimises Σ|w − q|^2.4 (GPTQ's mse=True).
/// </summary>
public sealed record QuantSpec(int Bits, bool Symmetric, int GroupSize = -1, bool MseClip = false)
{
    /// <summary>Largest integer code, 2^bits − 1.</summary>
    public int MaxQ => (1 << Bits) - 1;

    /// <summary>16 bits or more means "not quantized" on the command line.</summary>
    public static bool IsOff(int bits) => bits >= 16;

    public void Validate()
    {
        if (Bits is < 2 or > 8) throw new QllmException($"--wbits must be between 2 and 8 (or 16 for full precision), got {Bits}.");
        if (GroupSize == 0 || GroupSize < -1) throw new QllmException($"--wgroup must be a positive group size or -1 (per channel), got {GroupSize}.");
    }

    public string Describe() =>
        $"w{Bits} {(GroupSize > 0 ? $"g{GroupSize}" : "per-channel")} {(Symmetric ? "sym" : "asym")}{(MseClip ? " mse" : "")}";
}

public enum ActivationGranularity { PerTensor, PerToken }

/// <summary>Dynamic activation quantization: a fresh grid per call, per tensor or per token (row), optionally per group of columns.</summary>
public sealed record ActivationQuantSpec(int Bits, bool Symmetric, ActivationGranularity Granularity, int GroupSize = -1) : IFakeQuantizer
{
    public void Apply(Span<float> values, int rows, int columns) => ActivationQuantizer.FakeQuantize(values, rows, columns, this);

    public int MaxQ => (1 << Bits) - 1;

    public void Validate()
    {
        if (Bits is < 2 or > 8) throw new QllmException($"--abits must be between 2 and 8 (or 16 for full precision), got {Bits}.");
        if (GroupSize == 0 || GroupSize < -1) throw new QllmException($"--agroup must be a positive group size or -1, got {GroupSize}.");
        if (GroupSize > 0 && Granularity == ActivationGranularity.PerTensor)
            throw new QllmException("--agroup needs --agranularity per-token (groups are columns within a token).");
    }

    public string Describe() =>
        $"a{Bits} {(Granularity == ActivationGranularity.PerToken ? "per-token" : "per-tensor")}{(GroupSize > 0 ? $" g{GroupSize}" : "")} {(Symmetric ? "sym" : "asym")}";
}
