using Qllm.Calibration;
using Qllm.Common;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Calibration;

public class CalibrationSetTests
{
    private static readonly ITextTokenizer Tokenizer = TokenizerLoader.Load(SharedModels.Stories260KTokenizer);
    private static string DataDir => SharedData.Path("data");

    private static int[] Stream() =>
        Tokenizer.Encode(string.Join("\n\n", File.ReadLines(SharedData.Path("data", "c4", "c4-calibration-excerpt.txt")).Where(l => l.Length > 0)));

    [Fact]
    public void FirstSamplingTakesConsecutiveWindowsFromTheStart()
    {
        var set = CalibrationSet.Load(new CalibrationOptions("c4", 4, 64, CalibrationSampling.First), Tokenizer, 512, DataDir);
        int[] stream = Stream();
        Assert.Equal(stream[..256], set.Tokens);
        Assert.Equal(stream.Length, set.StreamTokens);
        Assert.Equal(1, set.Tokens[0]); // BOS once, at the start of the stream
    }

    [Fact]
    public void RandomSamplingIsSeededAndEachWindowIsASliceOfTheStream()
    {
        var options = new CalibrationOptions("c4", 8, 100, CalibrationSampling.Random, Seed: 3);
        var a = CalibrationSet.Load(options, Tokenizer, 512, DataDir);
        var b = CalibrationSet.Load(options, Tokenizer, 512, DataDir);
        var c = CalibrationSet.Load(options with { Seed = 4 }, Tokenizer, 512, DataDir);
        Assert.Equal(a.Tokens, b.Tokens);
        Assert.NotEqual(a.Tokens, c.Tokens);
        string stream = string.Join(",", Stream());
        for (int s = 0; s < a.Samples; s++) Assert.Contains(string.Join(",", a.Sample(s).ToArray()), stream);
    }

    [Fact]
    public void WindowsAreCappedAtTheModelContext()
    {
        var set = CalibrationSet.Load(new CalibrationOptions("c4", 2, 2048), Tokenizer, 256, DataDir);
        Assert.Equal(256, set.SeqLen);
        Assert.Contains(set.Notes, n => n.Contains("capped"));
    }

    [Fact]
    public void ATextTooShortForOneWindowNamesTheFile()
    {
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, "tiny.txt");
        File.WriteAllText(path, "Once upon a time.");
        var error = Assert.Throws<ModelFormatException>(() => CalibrationSet.Load(new CalibrationOptions(path, 1, 64), Tokenizer, 512));
        Assert.Contains("tiny.txt", error.Message);
        Assert.Contains("too short", error.Message);
    }

    [Fact]
    public void FirstSamplingRefusesMoreWindowsThanTheTextHolds()
    {
        var error = Assert.Throws<QllmException>(() =>
            CalibrationSet.Load(new CalibrationOptions("c4", 100000, 512, CalibrationSampling.First), Tokenizer, 512, DataDir));
        Assert.Contains("--nsamples", error.Message);
    }

    [Theory]
    [InlineData(0, 512, "--nsamples")]
    [InlineData(4, 1, "--calib-seqlen")]
    public void ImpossibleOptionsAreNamed(int samples, int seqLen, string option)
    {
        var error = Assert.Throws<QllmException>(() => new CalibrationOptions("c4", samples, seqLen).Validate());
        Assert.Contains(option, error.Message);
    }
}
