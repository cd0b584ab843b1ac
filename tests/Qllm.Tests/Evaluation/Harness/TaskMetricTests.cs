using Qllm.Common;
using Qllm.Evaluation.Tasks;
using Xunit;

namespace Qllm.Tests.Evaluation.Harness;

/// <summary>Aggregations against numpy (values from /usr/bin/python3 with numpy, formulas of lm_eval/api/metrics.py and truthfulqa/utils.py).</summary>
public class TaskMetricTests
{
    [Fact]
    public void MeanStderrIsTheSampleStandardDeviationOverRootN()
    {
        double[] values = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1];
        Assert.Equal(0.6, MeanMetric.Mean(values), 12);
        Assert.Equal(0.16329931618554522, MeanMetric.StandardError(values), 12); // x.std(ddof=1) / sqrt(n)
        Assert.True(double.IsNaN(MeanMetric.StandardError([1.0])));
    }

    [Fact]
    public void PooledStderrMatchesLmEval()
    {
        Assert.Equal(0.020304696544257587, MeanMetric.PooledStandardError([(0.05, 10), (0.02, 40), (0.1, 7)]), 12);
    }

    [Fact]
    public void Mc2IsTheProbabilityMassBeforeTheFirstFalseLabel()
    {
        // p = exp(lls); p[:2].sum() / p.sum()
        Assert.Equal(0.43398071638967184, TruthfulQaTask.TrueProbabilityMass([-1.0, -2.0, -0.5, -3.0], [1, 1, 0, 1]), 12);
    }

    [Fact]
    public void MmluGroupsWeighByQuestionsAndReportTheSubjectMeanBeside()
    {
        var group = MmluTask.Group("g", [
            new TaskResult("a", [new("acc", 1.0), new("acc_stderr", 0.0)], 10, 1),
            new TaskResult("b", [new("acc", 0.0), new("acc_stderr", 0.0)], 30, 1)]);
        Assert.Equal(0.25, group["acc"], 12);
        Assert.Equal(0.5, group["acc_subject_mean"], 12);
        Assert.Equal(40, group.Examples);
    }

    [Fact]
    public void Bzip2DecodesWhatPythonCompressed()
    {
        // base64(bz2.compress(text)) from Python's bz2 module; text is 3 × (a HellaSwag-like header + a 900-byte line of runs).
        byte[] compressed = Convert.FromBase64String(
            "QlpoOTFBWSZTWaK0dH8AAUbfgEBQQAEIECAAEAAz550AIACQKDRo0GQGgmqoEaZJ5RobTaJW0St3Zq0eHpiUrWJWzJu4eGzh/sHD04YtIlYsKJWBSsXT+fkqjOJX67vb3OZo8undkyeXLJy1ZupjM3TdwymjCbsXZ8F3JFOFCQorR0fw");
        byte[] text = BZip2Decoder.Decompress(compressed, "test.bz2");
        Assert.Equal(2868, text.Length);
        Assert.Equal(257241, text.Sum(b => (long)b));
        Assert.StartsWith("Roof shingle removal: A man is sitting on a roof. he\n3\naaaaaaaaaaaa bbbb ", System.Text.Encoding.UTF8.GetString(text));
        compressed[^12] ^= 0x40;
        Assert.Throws<ModelFormatException>(() => BZip2Decoder.Decompress(compressed, "test.bz2"));
    }
}
