using System.Numerics.Tensors;
using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Quantization;
using Qllm.Models.Llama;
using Qllm.Tensors;

namespace Qllm.Training;

/// <summary>
/// The LLaMA block of <see cref="LlamaBlock.Forward"/> as a trainable function, with the same operations in the same
/// order: h₁ = x + o(attn(rope(q(n₁)), rope(k(n₁)), v(n₁))), n₁ = RMSNorm(x); y = h₁ + down(silu(gate(n₂)) ⊙ up(n₂)),
/// n₂ = RMSNorm(h₁); and its backward.
/// </summary>
public sealed class LlamaBlockTrainer : BlockTrainer
{
    private readonly ModelConfig _c;
    private readonly RotaryEmbedding _rope;
    private readonly Parameter _inputNorm, _postNorm;
    private readonly float _inputEps, _postEps;
    private readonly TrainableLinear _q, _k, _v, _o, _gate, _up, _down;
    private float[]? _x, _n1, _query, _key, _value, _attention, _h1, _n2, _gateOut, _upOut, _activated;
    private float[]? _dAttention, _dQuery, _dKey, _dValue, _dN, _dGate, _dUp, _dH, _scratchHidden, _scratchFfn;
    private int _batch, _seqLen, _rows;

    public LlamaBlockTrainer(LlamaBlock block, Func<LinearSlot, SlotQuantizers> quantizers)
    {
        _c = block.Config;
        if (_c.SlidingWindow is not null) throw new QllmException("LKD: sliding-window attention (Mistral) has no training forward here.");
        _rope = block.Rope;
        _inputEps = block.InputNorm.Eps;
        _postEps = block.PostAttentionNorm.Eps;
        _inputNorm = Tensor($"model.layers.{block.Index}.input_layernorm.weight", block.InputNorm.Weight);
        _q = Linear(block.QProj, quantizers);
        _k = Linear(block.KProj, quantizers);
        _v = Linear(block.VProj, quantizers);
        _o = Linear(block.OProj, quantizers);
        _postNorm = Tensor($"model.layers.{block.Index}.post_attention_layernorm.weight", block.PostAttentionNorm.Weight);
        _gate = Linear(block.GateProj, quantizers);
        _up = Linear(block.UpProj, quantizers);
        _down = Linear(block.DownProj, quantizers);
    }

    private AttentionBackward.Shape Shape => new(_batch, _seqLen, _c.NumHeads, _c.NumKvHeads, _c.HeadDim);

    public override void Forward(ReadOnlySpan<float> input, int batch, int seqLen, Span<float> output)
    {
        (_batch, _seqLen, _rows) = (batch, seqLen, batch * seqLen);
        int rows = _rows, d = _c.HiddenSize, ffn = rows * _c.IntermediateSize;
        var x = Ensure(ref _x, rows * d);
        input[..(rows * d)].CopyTo(x);
        var n1 = Ensure(ref _n1, rows * d);
        Elementwise.RmsNorm(x, _inputNorm.Value, n1, rows, _inputEps);
        var q = Ensure(ref _query, rows * _c.QDim);
        var k = Ensure(ref _key, rows * _c.KvDim);
        var v = Ensure(ref _value, rows * _c.KvDim);
        _q.Forward(n1, rows, q);
        _k.Forward(n1, rows, k);
        _v.Forward(n1, rows, v);
        for (int r = 0; r < rows; r++)
        {
            _rope.Apply(q.AsSpan(r * _c.QDim, _c.QDim), _c.NumHeads, r % seqLen);
            _rope.Apply(k.AsSpan(r * _c.KvDim, _c.KvDim), _c.NumKvHeads, r % seqLen);
        }
        var attention = Ensure(ref _attention, rows * _c.QDim);
        AttentionBackward.Forward(q, k, v, Shape, attention);
        var h1 = Ensure(ref _h1, rows * d);
        _o.Forward(attention, rows, h1);
        TensorPrimitives.Add(h1, x, h1);

        var n2 = Ensure(ref _n2, rows * d);
        Elementwise.RmsNorm(h1, _postNorm.Value, n2, rows, _postEps);
        var gate = Ensure(ref _gateOut, ffn);
        var up = Ensure(ref _upOut, ffn);
        _gate.Forward(n2, rows, gate);
        _up.Forward(n2, rows, up);
        var activated = Ensure(ref _activated, ffn);
        var upCopy = Ensure(ref _scratchFfn, ffn);
        gate.CopyTo(activated, 0);
        up.CopyTo(upCopy, 0);
        Elementwise.SiluGate(activated, upCopy);
        _down.Forward(activated, rows, output);
        TensorPrimitives.Add(output[..(rows * d)], h1, output);
    }

    public override void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient)
    {
        int rows = _rows, d = _c.HiddenSize, ffn = rows * _c.IntermediateSize;
        var dy = outputGradient[..(rows * d)];
        var scratch = Ensure(ref _scratchHidden, rows * Math.Max(d, _c.QDim));

        // Feed-forward: y = h₁ + down(a), a = silu(gate) ⊙ up.
        var dActivated = Ensure(ref _scratchFfn, ffn);
        _down.Backward(dy, dActivated);
        var dGate = Ensure(ref _dGate, ffn);
        var dUp = Ensure(ref _dUp, ffn);
        SwiGluBackward.Backward(_gateOut, _upOut, dActivated, dGate, dUp);
        var dN = Ensure(ref _dN, rows * d);
        SharedInputBackward([_gate, _up], [dGate, dUp], dN, scratch);
        var dH = Ensure(ref _dH, rows * d);
        RmsNormBackward.Backward(_h1, _postNorm.Value, _postEps, dN, rows, dH, _postNorm.Gradient);
        TensorPrimitives.Add(dH, dy, dH);

        // Attention: h₁ = x + o(attn).
        var dAttention = Ensure(ref _dAttention, rows * _c.QDim);
        _o.Backward(dH, dAttention);
        var dQ = Ensure(ref _dQuery, rows * _c.QDim);
        var dK = Ensure(ref _dKey, rows * _c.KvDim);
        var dV = Ensure(ref _dValue, rows * _c.KvDim);
        AttentionBackward.Backward(_query!, _key!, _value!, _attention!, dAttention, Shape, dQ, dK, dV);
        RopeBackward.Backward(_rope, dQ, rows, _seqLen, _c.NumHeads);
        RopeBackward.Backward(_rope, dK, rows, _seqLen, _c.NumKvHeads);
        SharedInputBackward([_q, _k, _v], [dQ, dK, dV], dN, scratch);
        RmsNormBackward.Backward(_x, _inputNorm.Value, _inputEps, dN, rows, inputGradient, _inputNorm.Gradient);
        TensorPrimitives.Add(inputGradient[..(rows * d)], dH, inputGradient);
    }
}
