using Qllm.Common;
using Qllm.Evaluation;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Evaluation;

public class PerplexityDatasetsTests
{
    [Fact]
    public void WikiText2IsTheTestRowsJoinedWithBlankLines()
    {
        // ../shared/README.md: GPTQ's evaluation string "\n\n".join(rows) is 1,294,336 characters.
        var corpus = PerplexityDatasets.Load("wikitext2", SharedData.Path("data"));
        Assert.Equal(1_294_336, corpus.Text.Length);
        // The first row is empty, the second is the title: "" + "\n\n" + " = Robert Boulter = \n" + "\n\n" + "" ...
        Assert.StartsWith("\n\n = Robert Boulter = \n\n\n\n\n Robert Boulter is", corpus.Text);
    }

    [Fact]
    public void PtbJoinsStrippedSentencesWithOneSpace()
    {
        var corpus = PerplexityDatasets.Load("ptb", SharedData.Path("data"));
        string[] lines = File.ReadAllLines(SharedData.Path("data", "ptb", "ptb.test.txt"));
        Assert.Equal(string.Join(" ", lines.Select(l => l.Trim())), corpus.Text);
        Assert.DoesNotContain("  ", corpus.Text[..1000]);
    }

    [Fact]
    public void C4JoinsTheFirst1100DocumentsAndCapsAt256Windows()
    {
        var corpus = PerplexityDatasets.Load("c4", SharedData.Path("data"));
        Assert.Equal(256, corpus.MaxWindows);
        Assert.True(corpus.Text.Length > 1_000_000);
    }

    [Fact]
    public void TextAndJsonlFilesAreAccepted()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("a.txt"), "plain text\n");
        File.WriteAllLines(folder.File("b.jsonl"), ["{\"text\":\"one\"}", "{\"text\":\"two\"}"]);
        Assert.Equal("plain text\n", PerplexityDatasets.Load(folder.File("a.txt"), null).Text);
        Assert.Equal("one\n\ntwo", PerplexityDatasets.Load(folder.File("b.jsonl"), null).Text);
    }

    [Fact]
    public void AMalformedJsonlLineIsNamed()
    {
        using var folder = new TempFolder();
        File.WriteAllLines(folder.File("bad.jsonl"), ["{\"text\":\"one\"}", "{oops"]);
        var e = Assert.Throws<ModelFormatException>(() => PerplexityDatasets.Load(folder.File("bad.jsonl"), null));
        Assert.Contains("bad.jsonl", e.Message);
        Assert.Contains("line 2", e.Message);
    }
}
