using System.Runtime.InteropServices;
using Qllm.Common;
using Qllm.Models;
using Qllm.Models.Layers;
using Qllm.Models.Llama;

namespace Qllm.Formats.Llama2c;

/// <summary>
/// Reads karpathy/llama2.c checkpoints into a <see cref="LlamaModel"/>:
/// <list type="bullet">
/// <item>version 0 (legacy): a 7 × int32 header (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
/// seq_len; a negative vocab_size means an untied classifier), then fp32 tensors in export.py's legacy_export
/// order, including the freqs_cos/sin tables that we skip;</item>
/// <item>version 1: magic "ak42", int32 version, the same 7 ints, a shared-classifier byte, zero padding to
/// 256 bytes, then fp32 tensors in version1_export's order (norms first).</item>
/// </list>
/// Wq and Wk are permuted from interleaved-pair RoPE to the rotate-half form at load time.
/// </summary>
public static class Llama2cCheckpoint
{
    private const uint Magic = 0x616b3432; // "ak42"

    public static LlamaModel Load(string path)
    {
        if (!File.Exists(path)) throw new ModelFormatException(path, "file not found");
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream);
        if (stream.Length < 28) throw new ModelFormatException(path, $"file of {stream.Length} bytes is too short for a llama2.c header");

        int version = 0;
        bool shared;
        int[] header = new int[7];
        if (reader.ReadUInt32() == Magic)
        {
            version = reader.ReadInt32();
            if (version != 1)
                throw new ModelFormatException(path, $"llama2.c checkpoint version {version} is not supported (supported: 0 and 1, fp32)");
            for (int i = 0; i < 7; i++) header[i] = reader.ReadInt32();
            shared = reader.ReadByte() != 0;
            stream.Position = 256;
        }
        else
        {
            stream.Position = 0;
            for (int i = 0; i < 7; i++) header[i] = reader.ReadInt32();
            shared = header[5] > 0;
            header[5] = Math.Abs(header[5]);
        }

        var h = new Header(header[0], header[1], header[2], header[3], header[4], header[5], header[6], shared);
        h.Validate(path);
        long expected = stream.Position + 4 * h.FloatCount(version);
        if (stream.Length != expected)
            throw new ModelFormatException(path, $"file is {stream.Length} bytes but a version-{version} checkpoint with this header needs {expected}");

        var tensors = new Reader(reader);
        return version == 0 ? ReadLegacy(h, tensors) : ReadVersion1(h, tensors);
    }

    private static LlamaModel ReadLegacy(Header h, Reader r)
    {
        float[] embedding = r.Read(h.Vocab * h.Dim);
        float[][] attentionNorm = r.PerLayer(h.Layers, h.Dim);
        float[][] wq = r.PerLayer(h.Layers, h.Dim * h.Dim);
        float[][] wk = r.PerLayer(h.Layers, h.KvDim * h.Dim);
        float[][] wv = r.PerLayer(h.Layers, h.KvDim * h.Dim);
        float[][] wo = r.PerLayer(h.Layers, h.Dim * h.Dim);
        float[][] ffnNorm = r.PerLayer(h.Layers, h.Dim);
        float[][] w1 = r.PerLayer(h.Layers, h.Hidden * h.Dim);
        float[][] w2 = r.PerLayer(h.Layers, h.Dim * h.Hidden);
        float[][] w3 = r.PerLayer(h.Layers, h.Hidden * h.Dim);
        float[] finalNorm = r.Read(h.Dim);
        r.Skip(h.SeqLen * h.HeadDim); // freqs_cos and freqs_sin, [seq_len, head_size/2] each: recomputed instead
        float[]? classifier = h.Shared ? null : r.Read(h.Vocab * h.Dim);
        return Build(h, embedding, attentionNorm, ffnNorm, finalNorm, wq, wk, wv, wo, w1, w2, w3, classifier);
    }

    private static LlamaModel ReadVersion1(Header h, Reader r)
    {
        float[][] attentionNorm = r.PerLayer(h.Layers, h.Dim);
        float[][] ffnNorm = r.PerLayer(h.Layers, h.Dim);
        float[] finalNorm = r.Read(h.Dim);
        float[] embedding = r.Read(h.Vocab * h.Dim);
        float[][] wq = r.PerLayer(h.Layers, h.Dim * h.Dim);
        float[][] wk = r.PerLayer(h.Layers, h.KvDim * h.Dim);
        float[][] wv = r.PerLayer(h.Layers, h.KvDim * h.Dim);
        float[][] wo = r.PerLayer(h.Layers, h.Dim * h.Dim);
        float[][] w1 = r.PerLayer(h.Layers, h.Hidden * h.Dim);
        float[][] w2 = r.PerLayer(h.Layers, h.Dim * h.Hidden);
        float[][] w3 = r.PerLayer(h.Layers, h.Hidden * h.Dim);
        float[]? classifier = h.Shared ? null : r.Read(h.Vocab * h.Dim);
        return Build(h, embedding, attentionNorm, ffnNorm, finalNorm, wq, wk, wv, wo, w1, w2, w3, classifier);
    }

    private static LlamaModel Build(Header h, float[] embedding, float[][] attentionNorm, float[][] ffnNorm, float[] finalNorm,
        float[][] wq, float[][] wk, float[][] wv, float[][] wo, float[][] w1, float[][] w2, float[][] w3, float[]? classifier)
    {
        var config = h.ToConfig();
        var blocks = new LlamaBlockWeights[h.Layers];
        for (int l = 0; l < h.Layers; l++)
        {
            blocks[l] = new LlamaBlockWeights(attentionNorm[l], ffnNorm[l],
                Q: new DenseLinear(RopeLayout.InterleavedToRotateHalf(wq[l], h.Heads, h.HeadDim, h.Dim), h.Dim, h.Dim),
                K: new DenseLinear(RopeLayout.InterleavedToRotateHalf(wk[l], h.KvHeads, h.HeadDim, h.Dim), h.KvDim, h.Dim),
                V: new DenseLinear(wv[l], h.KvDim, h.Dim),
                O: new DenseLinear(wo[l], h.Dim, h.Dim),
                Gate: new DenseLinear(w1[l], h.Hidden, h.Dim),  // llama2.c w1: silu branch
                Up: new DenseLinear(w3[l], h.Hidden, h.Dim),    // w3: linear branch
                Down: new DenseLinear(w2[l], h.Dim, h.Hidden)); // w2: back to dim
        }
        return new LlamaModel(config, embedding, blocks, finalNorm, classifier);
    }

    private sealed record Header(int Dim, int Hidden, int Layers, int Heads, int KvHeads, int Vocab, int SeqLen, bool Shared)
    {
        public int HeadDim => Dim / Heads;
        public int KvDim => KvHeads * HeadDim;

        public void Validate(string path)
        {
            if (Dim <= 0 || Hidden <= 0 || Layers <= 0 || Heads <= 0 || KvHeads <= 0 || Vocab <= 0 || SeqLen <= 0
                || Dim % Heads != 0 || Heads % KvHeads != 0 || HeadDim % 2 != 0 || Dim > 1 << 16 || Vocab > 1 << 22 || Layers > 1024)
                throw new ModelFormatException(path, $"implausible llama2.c header (dim {Dim}, hidden {Hidden}, layers {Layers}, heads {Heads}, kv heads {KvHeads}, vocab {Vocab}, seq_len {SeqLen})");
        }

        public long FloatCount(int version)
        {
            long perLayer = 2L * Dim + 2L * Dim * Dim + 2L * KvDim * Dim + 3L * Hidden * Dim;
            long total = (long)Vocab * Dim + Layers * perLayer + Dim + (Shared ? 0 : (long)Vocab * Dim);
            return version == 0 ? total + (long)SeqLen * HeadDim : total;
        }

        public ModelConfig ToConfig() => new()
        {
            Architecture = "llama2.c",
            Family = ModelFamily.Llama,
            HiddenSize = Dim,
            IntermediateSize = Hidden,
            NumLayers = Layers,
            NumHeads = Heads,
            NumKvHeads = KvHeads,
            HeadDim = HeadDim,
            VocabSize = Vocab,
            MaxPositions = SeqLen,
            NormEps = 1e-5f,
            RopeTheta = 10000,
            TieWordEmbeddings = Shared,
            BosTokenId = 1,
            EosTokenIds = [2],
        };
    }

    private sealed class Reader(BinaryReader reader)
    {
        public float[] Read(int count)
        {
            var values = new float[count];
            reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
            return values;
        }

        public float[][] PerLayer(int layers, int count) => Enumerable.Range(0, layers).Select(_ => Read(count)).ToArray();

        public void Skip(long floats) => reader.BaseStream.Position += 4 * floats;
    }
}
