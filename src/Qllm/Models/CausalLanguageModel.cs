using Qllm.Common;
using Qllm.Models.KvCache;
using Qllm.Models.Layers;
using Qllm.Tensors;

namespace Qllm.Models;

/// <summary>
/// A decoder-only language model: embed → decoder blocks → final transform → LM head.
/// Each family (LLaMA, OPT) supplies its embedding, blocks and final transform; the loop, the KV
/// cache handling and the head are shared here, so there is one forward pass per family.
/// </summary>
public abstract class CausalLanguageModel
{
    private IKvCache? _scratchCache;
    private ForwardWorkspace? _workspace;

    protected CausalLanguageModel(ModelConfig config, LinearSlot head)
    {
        Config = config;
        Head = head;
    }

    public ModelConfig Config { get; }
    public abstract IReadOnlyList<IDecoderBlock> Blocks { get; }

    /// <summary>The LM head [vocab, HeadInputDim]; stays full precision unless a method replaces it.</summary>
    public LinearSlot Head { get; }

    /// <summary>Makes the KV cache of a decode session. A KV-cache quantizer replaces this factory.</summary>
    public Func<ModelConfig, int, int, IKvCache> KvCacheFactory { get; set; } =
        (config, batch, capacity) => new Fp32KvCache(config.NumLayers, batch, capacity, config.NumKvHeads, config.HeadDim);

    public IKvCache CreateKvCache(int batch, int capacity) => KvCacheFactory(Config, batch, capacity);

    /// <summary>Token (and, for OPT, position) embedding of the new tokens into hidden [rows, hidden_size].</summary>
    public abstract void Embed(ReadOnlySpan<int> tokens, int batch, int seqLen, int startPosition, Span<float> hidden);

    /// <summary>What follows the last block (final norm; OPT's project_out): hidden [rows, hidden] → [rows, HeadInputDim].</summary>
    public abstract void Finish(ReadOnlySpan<float> hidden, Span<float> output, int rows);

    /// <summary>Full-precision tensors outside the linear layers: embeddings, positions, norm weights and biases.</summary>
    protected abstract IEnumerable<float[]> OtherTensors();

    /// <summary>Linear layers outside the blocks and the head (OPT's project_in/out).</summary>
    protected virtual IEnumerable<ILinear> OtherLinears() => [];

    /// <summary>The token embedding table [vocab, embedding width]; a tied head shares its storage.</summary>
    protected abstract float[] TokenEmbedding { get; }

    /// <summary>True when the head shares the token embedding's storage (counted once).</summary>
    private bool HeadIsTied => Head.Layer is DenseLinear dense && ReferenceEquals(dense.Weight, TokenEmbedding);

    private IEnumerable<ILinear> AllLinears() =>
        BlockLinears().Select(s => s.Layer).Concat(OtherLinears()).Concat(HeadIsTied ? [] : [Head.Layer]);

    /// <summary>All parameters, embeddings and head included (a tied head counted once).</summary>
    public long ParameterCount => OtherTensors().Sum(t => (long)t.Length) + AllLinears().Sum(l => l.ParameterCount);

    /// <summary>
    /// Bytes one decode step must read: every linear layer of the blocks, the extra linears and the whole head
    /// (the embedding contributes one row). Memory bandwidth ÷ this is the decode speed limit.
    /// </summary>
    public long DecodeBytesPerToken =>
        BlockLinears().Sum(s => s.Layer.StorageBytes) + OtherLinears().Sum(l => l.StorageBytes) + Head.Layer.StorageBytes;

    /// <summary>Bytes the parameters occupy as stored now (quantized layers count their packed size).</summary>
    public long WeightBytes => 4 * OtherTensors().Sum(t => (long)t.Length) + AllLinears().Sum(l => l.StorageBytes);

    /// <summary>
    /// Runs <paramref name="batch"/> sequences of <paramref name="seqLen"/> new tokens (row-major in
    /// <paramref name="tokens"/>) and returns the inputs of the LM head, [batch·seqLen, HeadInputDim].
    /// With a cache the tokens continue what it holds and are appended to it; without one they start at position 0.
    /// A cache may hold more sequences than the batch: the batch is its first ones (the rest keep stale positions).
    /// </summary>
    public float[] ForwardHidden(ReadOnlySpan<int> tokens, int batch, int seqLen, IKvCache? cache = null)
    {
        // Uninitialized: the output is overwritten in full (zeroing 100s of MB of activations costs real time).
        var output = GC.AllocateUninitializedArray<float>(checked(batch * seqLen * Config.HeadInputDim));
        ForwardHidden(tokens, batch, seqLen, cache, output);
        return output;
    }

    /// <summary>
    /// <see cref="ForwardHidden(ReadOnlySpan{int}, int, int, IKvCache?)"/> into the caller's
    /// <paramref name="output"/> [batch·seqLen, HeadInputDim]; the residual stream is pooled, so a decode step
    /// with a cache allocates nothing (the model keeps its activation buffers between calls).
    /// </summary>
    public void ForwardHidden(ReadOnlySpan<int> tokens, int batch, int seqLen, IKvCache? cache, Span<float> output)
    {
        if (tokens.Length != batch * seqLen)
            throw new ArgumentException($"expected {batch}×{seqLen} tokens, got {tokens.Length}.");
        if (output.Length < (long)batch * seqLen * Config.HeadInputDim)
            throw new ArgumentException($"output holds {output.Length} values, expected {batch}×{seqLen}×{Config.HeadInputDim}.");
        int start = cache?.Length ?? 0;
        if (start + seqLen > Config.MaxPositions)
            throw new QllmException($"sequence of {start + seqLen} positions exceeds the model's maximum of {Config.MaxPositions}.");
        if (cache != null && cache.BatchSize < batch)
            throw new ArgumentException($"KV cache holds {cache.BatchSize} sequences, the batch has {batch}.");

        if (start == 0) UseHugePages();
        var scratch = cache is null ? TakeScratchCache(batch, seqLen) : null;
        // Taken out of the field while in use, like the scratch cache: a concurrent caller makes its own.
        var workspace = Interlocked.Exchange(ref _workspace, null) ?? new ForwardWorkspace();
        var context = new ForwardContext(batch, seqLen, start, cache ?? scratch!, workspace);
        int length = checked(batch * seqLen * Config.HiddenSize);
        try
        {
            var hidden = workspace.Get(ForwardWorkspace.HiddenSlot, length).AsSpan(0, length);
            Embed(tokens, batch, seqLen, start, hidden);
            var blocks = Blocks;
            bool decode = Gemm.IsGemv(batch * seqLen);
            for (int i = 0; i < blocks.Count; i++) // not foreach: an interface enumerator is an allocation
            {
                if (decode) WarmMetadata(blocks[i], context);
                blocks[i].Forward(hidden, context);
            }
            cache?.Advance(seqLen);
            if (scratch != null) _scratchCache = scratch;
            Finish(hidden, output, batch * seqLen);
        }
        finally
        {
            _workspace = workspace;
        }
    }

    /// <summary>
    /// Puts the weights that forward passes stream on 2 MB pages (<see cref="HugePages"/>), once for each set of
    /// layers: every pass that starts a sequence checks that the layers are those last advised (quantization and
    /// checkpoints replace them), so no decode step pays for it. (A layer repacked in place, as after
    /// <see cref="DenseLinear.WeightChanged"/>, keeps 4 KB pages until the set changes.) Returns the bytes newly advised.
    /// </summary>
    public long UseHugePages()
    {
        if (!HugePages.Enabled) return 0;
        var layers = AllLinears().ToArray();
        var advised = _hugePageLayers;
        if (advised != null && advised.SequenceEqual(layers, ReferenceEqualityComparer.Instance)) return 0;
        _hugePageLayers = layers;
        return HugePages.Advise(layers.SelectMany(layer => layer.PinnedStorage));
    }

    private ILinear[]? _hugePageLayers;

    /// <summary>
    /// <see cref="ILinear.WarmMetadata"/> for a block's layers and <see cref="IDecoderBlock.WarmSmallObjects"/>,
    /// just before it runs a decode step (<see cref="CacheWarming"/>). W4 110M decode, medians in turns in one
    /// process: the layers' metadata made it 2.8% faster (15 rounds), then the LLaMA norms' weights 3.6% (14
    /// rounds), then the slots' hook lists and the batching tables of q/k/v and gate/up 3.3–4.0% (two runs of
    /// 14–16 rounds), then the KV cache layer 3.3–4.0% (two runs of 11–14 rounds); fp32 was unchanged. These
    /// objects lie on scattered 4 KB pages of the managed heap, so a cold read likely costs a page walk as well as a
    /// cache miss; the forward pass met them one after another.
    /// </summary>
    private static void WarmMetadata(IDecoderBlock block, ForwardContext context)
    {
        var linears = block.Linears;
        for (int i = 0; i < linears.Count; i++)
        {
            linears[i].Layer.WarmMetadata();
            CacheWarming.Keep(linears[i].Hooks.Count); // every slot's forward checks its hooks
        }
        block.WarmSmallObjects(context);
    }

    /// <summary>Logits [rows, vocab] of rows of <see cref="ForwardHidden"/>'s output.</summary>
    public void Logits(ReadOnlySpan<float> headInput, Span<float> logits, int rows) => Head.Forward(headInput, logits, rows);

    /// <summary>Full forward pass: logits [batch·seqLen, vocab].</summary>
    public float[] Forward(ReadOnlySpan<int> tokens, int batch, int seqLen, IKvCache? cache = null)
    {
        float[] headInput = ForwardHidden(tokens, batch, seqLen, cache);
        var logits = GC.AllocateUninitializedArray<float>(checked(batch * seqLen * Config.VocabSize));
        Logits(headInput, logits, batch * seqLen);
        return logits;
    }

    /// <summary>
    /// The cache of a cache-less forward pass, reused across calls of the same shape. It is taken out of the
    /// field while in use, so concurrent callers of one model never share it (a second one makes its own).
    /// </summary>
    private IKvCache TakeScratchCache(int batch, int seqLen)
    {
        var scratch = Interlocked.Exchange(ref _scratchCache, null);
        if (scratch is null || scratch.BatchSize != batch || scratch.Capacity < seqLen)
            scratch = CreateKvCache(batch, seqLen);
        scratch.Reset();
        return scratch;
    }

    /// <summary>Every linear slot of every block, for quantizers that treat them all alike.</summary>
    public IEnumerable<LinearSlot> BlockLinears() => Blocks.SelectMany(b => b.Linears);

    protected void CheckToken(int token)
    {
        if ((uint)token >= (uint)Config.VocabSize)
            throw new QllmException($"token id {token} is outside the model's vocabulary of {Config.VocabSize}.");
    }
}
