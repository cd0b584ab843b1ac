using Qllm.Models.Layers;
using Qllm.Training;
using Xunit;

namespace Qllm.Tests.Training;

/// <summary>RoPE followed by causal grouped-query attention (4 query heads on 2 KV heads), differentiated end to end.</summary>
public class AttentionBackwardTests
{
    private const int Batch = 2, SeqLen = 6, Heads = 4, KvHeads = 2, HeadDim = 4;
    private static readonly AttentionBackward.Shape Shape = new(Batch, SeqLen, Heads, KvHeads, HeadDim);
    private static readonly RotaryEmbedding Rope = new(HeadDim, 16, 10000, null);

    private static void Forward(float[] q, float[] k, float[] v, float[] rq, float[] rk, float[] output)
    {
        q.CopyTo(rq, 0);
        k.CopyTo(rk, 0);
        for (int r = 0; r < Batch * SeqLen; r++)
        {
            Rope.Apply(rq.AsSpan(r * Shape.QDim, Shape.QDim), Heads, r % SeqLen);
            Rope.Apply(rk.AsSpan(r * Shape.KvDim, Shape.KvDim), KvHeads, r % SeqLen);
        }
        AttentionBackward.Forward(rq, rk, v, Shape, output);
    }

    [Fact]
    public void QueryKeyAndValueGradientsMatchFiniteDifferences()
    {
        int rows = Batch * SeqLen;
        float[] q = GradientCheck.Random(rows * Shape.QDim, 51, 1.5f), k = GradientCheck.Random(rows * Shape.KvDim, 52, 1.5f),
            v = GradientCheck.Random(rows * Shape.KvDim, 53), r = GradientCheck.Random(rows * Shape.QDim, 54);
        float[] rq = new float[q.Length], rk = new float[k.Length], output = new float[q.Length];
        Forward(q, k, v, rq, rk, output);
        float[] dq = new float[q.Length], dk = new float[k.Length], dv = new float[v.Length];
        AttentionBackward.Backward(rq, rk, v, output, r, Shape, dq, dk, dv);
        RopeBackward.Backward(Rope, dq, rows, SeqLen, Heads);
        RopeBackward.Backward(Rope, dk, rows, SeqLen, KvHeads);

        double Loss()
        {
            Forward(q, k, v, rq, rk, output);
            return GradientCheck.Dot(output, r);
        }
        GradientCheck.Check("dq", q, dq, Loss);
        GradientCheck.Check("dk", k, dk, Loss);
        GradientCheck.Check("dv", v, dv, Loss);
    }

    [Fact]
    public void TheFirstTokenOnlySeesItself()
    {
        int rows = Batch * SeqLen;
        float[] q = GradientCheck.Random(rows * Shape.QDim, 61), k = GradientCheck.Random(rows * Shape.KvDim, 62), v = GradientCheck.Random(rows * Shape.KvDim, 63);
        var output = new float[q.Length];
        AttentionBackward.Forward(q, k, v, Shape, output);
        // Position 0 of query head 3 reads KV head 1 (4 / 2 heads per group) at position 0 only: its output is that value.
        Assert.Equal(v.AsSpan(1 * HeadDim, HeadDim).ToArray(), output.AsSpan(3 * HeadDim, HeadDim).ToArray());
    }
}
