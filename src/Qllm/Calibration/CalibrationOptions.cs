using Qllm.Common;

namespace Qllm.Calibration;

/// <summary>How calibration windows are drawn from the tokenized calibration text.</summary>
public enum CalibrationSampling
{
    /// <summary>GPTQ's datautils: each window starts at a uniformly random token, i ∈ [0, tokens − seqlen − 1], from a seeded generator.</summary>
    Random,

    /// <summary>Consecutive, non-overlapping windows from the start, so that runs compare exactly across implementations.</summary>
    First,
}

/// <summary>
/// The calibration set of every calibration-based method (GPTQ, SmoothQuant, AWQ, …): <see cref="Samples"/>
/// windows of <see cref="SeqLen"/> tokens from <see cref="Source"/> (c4, wikitext2, ptb, or a .txt/.jsonl file).
/// The defaults are GPTQ's: 128 random windows of 2048 tokens, seed 0.
/// </summary>
public sealed record CalibrationOptions(
    string Source = "c4", int Samples = 128, int SeqLen = 2048, CalibrationSampling Sampling = CalibrationSampling.Random, int Seed = 0)
{
    public void Validate()
    {
        if (Samples < 1) throw new QllmException($"--nsamples must be at least 1, got {Samples}.");
        if (SeqLen < 2) throw new QllmException($"--calib-seqlen must be at least 2, got {SeqLen}.");
    }

    public static CalibrationSampling ParseSampling(string text) => text.ToLowerInvariant() switch
    {
        "random" => CalibrationSampling.Random,
        "first" => CalibrationSampling.First,
        _ => throw new QllmException($"--calib-sampling must be 'random' or 'first', got '{text}'."),
    };
}
