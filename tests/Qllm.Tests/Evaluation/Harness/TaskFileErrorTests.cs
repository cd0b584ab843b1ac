using Qllm.Common;
using Qllm.Evaluation.Tasks;
using Xunit;

namespace Qllm.Tests.Evaluation.Harness;

/// <summary>A missing or malformed task file fails with one message naming the file and the line.</summary>
public sealed class TaskFileErrorTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("qllm-tasks-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        var error = Assert.Throws<ModelFormatException>(() => new CopaTask().LoadDocuments(_root, null));
        Assert.Equal(Path.Combine(_root, "copa", "val.mosaic.jsonl"), error.FilePath);
        Assert.Contains("file not found", error.Message);
    }

    [Fact]
    public void BadJsonNamesTheLine()
    {
        string path = Write("copa/val.mosaic.jsonl", "{\"query\": \"A, because\", \"choices\": [\"x\", \"y\"], \"gold\": 0}\n\n{\"query\": broken\n");
        var error = Assert.Throws<ModelFormatException>(() => new CopaTask().LoadDocuments(_root, null));
        Assert.StartsWith($"{path}: line 3: not valid JSON", error.Message);
    }

    [Fact]
    public void MissingFieldAndBadGoldNameTheLine()
    {
        string path = Write("boolq/dev.mosaic.jsonl", "{\"query\": \"Passage: p\\nQuestion: q?\", \"choices\": [\"no\", \"yes\"], \"gold\": 1}\n{\"choices\": [\"no\", \"yes\"], \"gold\": 1}\n");
        Assert.Equal($"{path}: line 2: no string field 'query'", Assert.Throws<ModelFormatException>(() => new BoolqTask().LoadDocuments(_root, null)).Message);
        Write("boolq/dev.mosaic.jsonl", "{\"query\": \"Passage: p\\nQuestion: q?\", \"choices\": [\"no\", \"yes\"], \"gold\": 2}\n");
        Assert.Equal($"{path}: line 1: gold 2 is not one of the 2 choices", Assert.Throws<ModelFormatException>(() => new BoolqTask().LoadDocuments(_root, null)).Message);
    }

    [Fact]
    public void CsvErrorsNameTheLineARecordStartsOn()
    {
        Write("mmlu/dev/anatomy_dev.csv", "question,choice0,choice1,choice2,choice3,answer\n");
        string path = Write("mmlu/test/anatomy_test.csv", "question,choice0,choice1,choice2,choice3,answer\n\"multi\nline\",a,b,c,d,0\nq,a,b,c,d,7\n");
        var error = Assert.Throws<ModelFormatException>(() => MmluTask.LoadSubject(_root, "anatomy", 0).ToArray());
        Assert.Equal($"{path}: line 4: answer 7 is not 0..3", error.Message);
        Write("mmlu/test/anatomy_test.csv", "question,choice0\n");
        Assert.Contains("line 1: expected the header", Assert.Throws<ModelFormatException>(() => MmluTask.LoadSubject(_root, "anatomy", 0).ToArray()).Message);
    }

    [Fact]
    public void HellaswagItemErrorsNameTheLine()
    {
        var error = Assert.Throws<ModelFormatException>(() => HellaswagTask.Parse("ctx\n3\na\nb\nc\nd\nctx2\nx\na\nb\nc\nd\n", "h.txt"));
        Assert.Equal("h.txt: line 8: gold 'x' is not 0..3", error.Message);
    }

    [Fact]
    public void UnknownTaskIsAnOptionError()
    {
        Assert.StartsWith("--tasks: unknown task 'piqa2'", Assert.Throws<QllmException>(() => TaskRegistry.Parse("piqa,piqa2")).Message);
    }
}
