using System.Runtime.InteropServices;
using Qllm.Common;
using Qllm.Formats.Llama2c;
using Qllm.Tests.Support;
using Xunit;

namespace Qllm.Tests.Formats;

/// <summary>
/// The other llama2.c layouts, written by this test from the stories260K legacy file following
/// export.py (legacy_export and version1_export), must load to the same model.
/// </summary>
public class Llama2cCheckpointTests
{
    private const int Dim = 64, Hidden = 172, Layers = 5, Heads = 8, KvHeads = 4, Vocab = 512, SeqLen = 512;
    private static readonly int[] Tokens = [1, 403, 407, 261, 378, 429, 324, 267, 300, 425];

    private static (int[] Header, float[] Weights) ReadLegacy()
    {
        byte[] bytes = File.ReadAllBytes(SharedModels.Stories260KCheckpoint);
        return (MemoryMarshal.Cast<byte, int>(bytes.AsSpan(0, 28)).ToArray(), MemoryMarshal.Cast<byte, float>(bytes.AsSpan(28)).ToArray());
    }

    /// <summary>Splits the legacy payload into its named tensors, in legacy_export's order.</summary>
    private static Dictionary<string, float[]> Tensors(float[] w)
    {
        int kv = Dim / Heads * KvHeads, offset = 0;
        var t = new Dictionary<string, float[]>();
        void Take(string name, int count) { t[name] = w.AsSpan(offset, count).ToArray(); offset += count; }
        Take("tok", Vocab * Dim);
        Take("att_norm", Layers * Dim); Take("wq", Layers * Dim * Dim); Take("wk", Layers * kv * Dim); Take("wv", Layers * kv * Dim);
        Take("wo", Layers * Dim * Dim); Take("ffn_norm", Layers * Dim); Take("w1", Layers * Hidden * Dim); Take("w2", Layers * Dim * Hidden);
        Take("w3", Layers * Hidden * Dim); Take("norm", Dim); Take("freqs", SeqLen * (Dim / Heads));
        return t;
    }

    private static void WriteFloats(Stream s, float[] values) => s.Write(MemoryMarshal.AsBytes(values.AsSpan()));

    [Fact]
    public void Version1FileGivesTheSameLogits()
    {
        var (header, weights) = ReadLegacy();
        var t = Tensors(weights);
        using var folder = new TempFolder();
        string path = folder.File("v1.bin");
        using (var s = File.Create(path))
        using (var w = new BinaryWriter(s))
        {
            w.Write(0x616b3432u); w.Write(1);
            foreach (int h in header) w.Write(h);
            w.Write((byte)1);                       // shared classifier
            w.Write(new byte[256 - s.Position]);
            foreach (var name in new[] { "att_norm", "ffn_norm", "norm", "tok", "wq", "wk", "wv", "wo", "w1", "w2", "w3" })
                WriteFloats(s, t[name]);
        }
        var model = Llama2cCheckpoint.Load(path);
        ModelAssert.Close(SharedModels.Stories260K.Forward(Tokens, 1, Tokens.Length), model.Forward(Tokens, 1, Tokens.Length), 1e-6);
    }

    [Fact]
    public void NegativeVocabSizeMeansAnUntiedClassifier()
    {
        var (header, weights) = ReadLegacy();
        var t = Tensors(weights);
        float[] classifier = t["tok"].Select(v => -v).ToArray();   // a different head: logits flip sign
        using var folder = new TempFolder();
        string path = folder.File("untied.bin");
        using (var s = File.Create(path))
        {
            header[5] = -Vocab;
            s.Write(MemoryMarshal.AsBytes(header.AsSpan()));
            WriteFloats(s, weights);
            WriteFloats(s, classifier);
        }
        var model = Llama2cCheckpoint.Load(path);
        Assert.False(model.Config.TieWordEmbeddings);
        float[] expected = SharedModels.Stories260K.Forward(Tokens, 1, Tokens.Length).Select(v => -v).ToArray();
        ModelAssert.Close(expected, model.Forward(Tokens, 1, Tokens.Length), 1e-6);
    }

    [Fact]
    public void ATruncatedCheckpointIsNamed()
    {
        using var folder = new TempFolder();
        string path = folder.File("cut.bin");
        File.WriteAllBytes(path, File.ReadAllBytes(SharedModels.Stories260KCheckpoint)[..5000]);
        var e = Assert.Throws<ModelFormatException>(() => Llama2cCheckpoint.Load(path));
        Assert.Contains("cut.bin", e.Message);
    }
}
