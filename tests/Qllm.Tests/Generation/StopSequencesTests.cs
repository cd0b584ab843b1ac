using Qllm.Generation;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Generation;

public class StopSequencesTests
{
    [Theory]
    [InlineData("42\n\nQuestion: next", 4)]         // lm-eval: s.split("Question:")[0]
    [InlineData("a</s>b Question:", 1)]             // the earliest of several stops
    [InlineData("no stop here", -1)]
    public void CutsBeforeTheEarliestStop(string text, int cut) =>
        Assert.Equal(cut, new StopSequences(["Question:", "</s>"]).FindCut(text));

    [Theory]
    [InlineData("The answer is 4\nQues", 16)]       // "Ques" may become "Question:"
    [InlineData("ends with <", 10)]                  // "<" may become "</s>"
    [InlineData("plain", 5)]
    public void HoldsBackWhatCouldStartAStop(string text, int safe) =>
        Assert.Equal(safe, new StopSequences(["Question:", "</s>"]).SafeLength(text));

    [Fact]
    public void GenerationStopsAtAStopStringAndTrimsIt()
    {
        // stories260K's greedy story (documented in llama2.c) contains "Lily"; stopping on it must end the text just before.
        var model = SharedModels.Stories260K;
        var tokenizer = Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer);
        var generator = new TextGenerator(model, tokenizer);
        var free = generator.Generate("Once upon a time", new GenerationOptions(40, Temperature: 0f));
        int at = free.Completion.IndexOf("Lily", StringComparison.Ordinal);
        Assert.True(at > 0, free.Completion);

        var streamed = new System.Text.StringBuilder();
        var stopped = generator.Generate(tokenizer.Encode("Once upon a time"), new GenerationOptions(40, Temperature: 0f) { StopSequences = ["Lily"] },
            text => streamed.Append(text));
        Assert.Equal("stop sequence", stopped.StopReason);
        Assert.Equal(free.Completion[..at], stopped.Completion);
        Assert.Equal(stopped.Completion, streamed.ToString());
        Assert.True(stopped.NewTokens.Length < free.NewTokens.Length);
    }

    [Fact]
    public void GenerationStopsAtACallersStopToken()
    {
        var model = SharedModels.Stories260K;
        var tokenizer = Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer);
        var generator = new TextGenerator(model, tokenizer);
        var free = generator.Generate(tokenizer.Encode("Once upon a time"), new GenerationOptions(20, Temperature: 0f));
        var stopped = generator.Generate(tokenizer.Encode("Once upon a time"),
            new GenerationOptions(20, Temperature: 0f) { StopTokenIds = [free.NewTokens[5]] });
        Assert.Equal("end token", stopped.StopReason);
        Assert.Equal(free.NewTokens[..Array.IndexOf(free.NewTokens, free.NewTokens[5])], stopped.NewTokens);
    }
}
