using System.CommandLine;
using Qllm.Calibration;
using Qllm.Common;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// The analysis tools of <c>eval</c> and <c>run</c> (qllm-infer's utils/statistics.py): --analyze-stats and
/// --layerwise-distance, over calibration windows. <c>run</c> already has the calibration options of its weight
/// method and the analysis shares them; on <c>eval</c> this class adds them, with small defaults (8 windows of
/// 512 tokens from the C4 excerpt) since the analysis only needs a representative sample of activations.
/// </summary>
public sealed class AnalysisOptions(bool ownCalibration)
{
    public Option<string?> Stats { get; } = new("--analyze-stats")
    {
        Description = "Write per-layer weight and input statistics (min, max, absmax, mean, std, kurtosis) and the quantization error (MSE, SQNR dB) of weights, inputs and outputs to this CSV file, and print the worst layers.",
        HelpName = "FILE.csv",
    };

    public Option<string?> Distance { get; } = new("--layerwise-distance")
    {
        Description = "Run the calibration windows through the full-precision and the quantized model, each on its own activations, and print each linear layer's input and output MSE and SQNR; also write them to FILE (.csv or .json) if given.",
        HelpName = "FILE",
        Arity = ArgumentArity.ZeroOrOne,
    };

    public Option<string> Calib { get; } = new("--calib") { Description = "Analysis windows' text: c4 (the C4 excerpt), wikitext2, ptb, or a .txt/.jsonl file.", DefaultValueFactory = _ => "c4" };
    public Option<int> NSamples { get; } = new("--nsamples") { Description = "Number of analysis windows.", DefaultValueFactory = _ => 8 };
    public Option<int> CalibSeqLen { get; } = new("--calib-seqlen") { Description = "Tokens per analysis window (capped at the model's maximum positions).", DefaultValueFactory = _ => 512 };

    public void AddTo(Command command)
    {
        command.Options.Add(Stats);
        command.Options.Add(Distance);
        if (!ownCalibration) return;
        command.Options.Add(Calib);
        command.Options.Add(NSamples);
        command.Options.Add(CalibSeqLen);
    }

    /// <param name="StatsPath">The --analyze-stats CSV, or null.</param>
    /// <param name="Distance">Whether --layerwise-distance was given.</param>
    /// <param name="DistancePath">Its FILE, or null to print only.</param>
    public sealed record Settings(string? StatsPath, bool Distance, string? DistancePath, CalibrationOptions Calibration)
    {
        public bool Any => StatsPath != null || Distance;
    }

    /// <summary>Reads and checks the options (output folders exist, the distance file is .csv or .json) before anything is loaded.</summary>
    /// <param name="sharedCalibration">The command's own calibration set (run's), when this class does not add the options.</param>
    public Settings Read(ParseResult result, CalibrationOptions? sharedCalibration = null)
    {
        string? stats = result.GetValue(Stats);
        if (stats != null) CheckTarget(stats, "--analyze-stats");
        bool distance = result.GetResult(Distance) != null;
        string? distancePath = result.GetValue(Distance);
        if (distancePath != null)
        {
            CheckTarget(distancePath, "--layerwise-distance");
            if (!IsJson(distancePath) && !distancePath.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
                throw new QllmException($"--layerwise-distance: '{distancePath}' must end in .csv or .json.");
        }
        var calibration = sharedCalibration ?? new CalibrationOptions(result.GetValue(Calib)!, result.GetValue(NSamples), result.GetValue(CalibSeqLen));
        calibration.Validate();
        return new Settings(stats, distance, distancePath, calibration);
    }

    public static bool IsJson(string path) => path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    private static void CheckTarget(string path, string option)
    {
        if (Directory.Exists(path)) throw new QllmException($"{option}: '{path}' is a folder; give a file name.");
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder != null && !Directory.Exists(folder)) throw new QllmException($"{option}: cannot write '{path}': folder '{folder}' does not exist.");
    }
}
