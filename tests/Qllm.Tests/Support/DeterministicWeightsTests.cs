using Xunit;

namespace Qllm.Tests.Support;

public class DeterministicWeightsTests
{
    [Fact]
    public void MatchesTheNumPyGenerator()
    {
        // Golden values printed by the NumPy generator in tests/oracles/deterministic_weights.py.
        float[] expected = [-0.0051483819261193275f, -0.005935702007263899f, 0.016124103218317032f, -0.01959466189146042f];
        Assert.Equal(expected, DeterministicWeights.Generate("model.embed_tokens.weight", 4, 0.02f));
    }
}
