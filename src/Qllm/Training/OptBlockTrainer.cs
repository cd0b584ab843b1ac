using System.Numerics.Tensors;
using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Models.Opt;
using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// The pre-LN OPT block of <see cref="OptBlock.Forward"/> as a trainable function, with the same operations in the same
/// order: h₁ = x + out(attn(q(n₁), k(n₁), v(n₁))), n₁ = LN₁(x); y = h₁ + fc2(relu(fc1(n₂))), n₂ = LN₂(h₁); and its backward.
/// Learned positions are added before the first block, so they are not part of it.
/// </summary>
public sealed class OptBlockTrainer : BlockTrainer
{
    private readonly ModelConfig _c;
    private readonly Parameter _norm1Weight, _norm1Bias, _norm2Weight, _norm2Bias;
    private readonly float _eps1, _eps2;
    private readonly TrainableLinear _q, _k, _v, _out, _fc1, _fc2;
    private float[]? _x, _n1, _query, _key, _value, _attention, _h1, _n2, _fc1Out, _activated;
    private float[]? _dAttention, _dQuery, _dKey, _dValue, _dN, _dH, _dFfn, _scratch;
    private int _batch, _seqLen, _rows;

    public OptBlockTrainer(OptBlock block, Func<LinearSlot, SlotQuantizers> quantizers)
    {
        _c = block.Config;
        if (!_c.DoLayerNormBefore) throw new QllmException("LKD: post-LN OPT blocks (opt-350m) have no training forward here.");
        string prefix = $"model.decoder.layers.{block.Index}.";
        _eps1 = block.SelfAttentionNorm.Eps;
        _eps2 = block.FinalNorm.Eps;
        _norm1Weight = Tensor(prefix + "self_attn_layer_norm.weight", block.SelfAttentionNorm.Weight);
        _norm1Bias = Tensor(prefix + "self_attn_layer_norm.bias", block.SelfAttentionNorm.Bias!);
        _q = Linear(block.QProj, quantizers);
        _k = Linear(block.KProj, quantizers);
        _v = Linear(block.VProj, quantizers);
        _out = Linear(block.OutProj, quantizers);
        _norm2Weight = Tensor(prefix + "final_layer_norm.weight", block.FinalNorm.Weight);
        _norm2Bias = Tensor(prefix + "final_layer_norm.bias", block.FinalNorm.Bias!);
        _fc1 = Linear(block.Fc1, quantizers);
        _fc2 = Linear(block.Fc2, quantizers);
    }

    private AttentionBackward.Shape Shape => new(_batch, _seqLen, _c.NumHeads, _c.NumHeads, _c.HeadDim);

    public override void Forward(ReadOnlySpan<float> input, int batch, int seqLen, Span<float> output)
    {
        (_batch, _seqLen, _rows) = (batch, seqLen, batch * seqLen);
        int rows = _rows, n = rows * _c.HiddenSize, ffn = rows * _c.IntermediateSize;
        var x = Ensure(ref _x, n);
        input[..n].CopyTo(x);
        var n1 = Ensure(ref _n1, n);
        Elementwise.LayerNorm(x, _norm1Weight.Value, _norm1Bias.Value, n1, rows, _eps1);
        var q = Ensure(ref _query, n);
        var k = Ensure(ref _key, n);
        var v = Ensure(ref _value, n);
        _q.Forward(n1, rows, q);
        _k.Forward(n1, rows, k);
        _v.Forward(n1, rows, v);
        var attention = Ensure(ref _attention, n);
        AttentionBackward.Forward(q, k, v, Shape, attention);
        var h1 = Ensure(ref _h1, n);
        _out.Forward(attention, rows, h1);
        TensorPrimitives.Add(h1, x, h1);

        var n2 = Ensure(ref _n2, n);
        Elementwise.LayerNorm(h1, _norm2Weight.Value, _norm2Bias.Value, n2, rows, _eps2);
        var fc1 = Ensure(ref _fc1Out, ffn);
        _fc1.Forward(n2, rows, fc1);
        var activated = Ensure(ref _activated, ffn);
        fc1.CopyTo(activated, 0);
        Elementwise.Relu(activated);
        _fc2.Forward(activated, rows, output);
        TensorPrimitives.Add(output[..n], h1, output);
    }

    public override void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        int rows = _rows, n = rows * _c.HiddenSize, ffn = rows * _c.IntermediateSize;
        var dy = outputGradient[..n];
        var scratch = Ensure(ref _scratch, n);

        // Feed-forward: y = h₁ + fc2(relu(fc1(n₂))).
        var dFfn = Ensure(ref _dFfn, ffn);
        _fc2.Backward(dy, dFfn);
        ReluBackward.Backward(_fc1Out, dFfn, dFfn);
        var dN = Ensure(ref _dN, n);
        _fc1.Backward(dFfn, dN);
        var dH = Ensure(ref _dH, n);
        LayerNormBackward.Backward(_h1, _norm2Weight.Value, _eps2, dN, rows, dH, _norm2Weight.Gradient, _norm2Bias.Gradient);
        TensorPrimitives.Add(dH, dy, dH);

        // Attention: h₁ = x + out(attn).
        var dAttention = Ensure(ref _dAttention, n);
        _out.Backward(dH, dAttention);
        var dQ = Ensure(ref _dQuery, n);
        var dK = Ensure(ref _dKey, n);
        var dV = Ensure(ref _dValue, n);
        AttentionBackward.Backward(_query!, _key!, _value!, _attention!, dAttention, Shape, dQ, dK, dV);
        SharedInputBackward([_q, _k, _v], [dQ, dK, dV], dN, scratch);
        LayerNormBackward.Backward(_x, _norm1Weight.Value, _eps1, dN, rows, inputGradient, _norm1Weight.Gradient, _norm1Bias.Gradient);
        TensorPrimitives.Add(inputGradient[..n], dH, inputGradient);
    }
}
