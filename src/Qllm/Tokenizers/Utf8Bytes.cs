using System.Text;

namespace Qllm.Tokenizers;

/// <summary>Byte-level helpers shared by the decoders.</summary>
internal static class Utf8Bytes
{
    private static readonly Encoding Strict = new UTF8Encoding(false, false);

    /// <summary>UTF-8 decode, leaving out an incomplete multi-byte sequence at the very end (invalid bytes elsewhere become U+FFFD).</summary>
    public static string DecodeDroppingIncompleteTail(List<byte> bytes)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        return Strict.GetString(span[..CompleteLength(span)]);
    }

    /// <summary>Length of <paramref name="bytes"/> without a trailing, incomplete UTF-8 sequence.</summary>
    public static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        // Look back over at most 3 continuation bytes for the lead byte of the last sequence.
        for (int back = 1; back <= Math.Min(4, n); back++)
        {
            byte b = bytes[n - back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte
            int need = b >= 0xF0 && b <= 0xF4 ? 4 : b >= 0xE0 && b < 0xF0 ? 3 : b >= 0xC2 && b < 0xE0 ? 2 : 1;
            return need > back ? n - back : n;
        }
        return n;
    }

    /// <summary>Parses a SentencePiece byte piece "&lt;0xXX&gt;".</summary>
    public static bool TryParseBytePiece(string piece, out byte value)
    {
        value = 0;
        if (piece.Length != 6 || !piece.StartsWith("<0x", StringComparison.Ordinal) || piece[5] != '>') return false;
        return byte.TryParse(piece.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }

    /// <summary>
    /// SentencePiece-style decoding: pieces whose id <paramref name="skip"/> says are skipped, "▁" (or, with
    /// <paramref name="metaspace"/> false, nothing) becomes a space, byte pieces become raw bytes, and the
    /// leading space of the first text piece (the dummy prefix) is dropped.
    /// </summary>
    public static string DecodePieces(ReadOnlySpan<int> ids, IReadOnlyList<string> pieces, Func<int, bool> skip, bool metaspace)
    {
        var bytes = new List<byte>(ids.Length * 4);
        bool first = true;
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)pieces.Count || skip(id)) continue;
            string piece = pieces[id];
            if (TryParseBytePiece(piece, out byte b))
            {
                bytes.Add(b);
                first = false;
                continue;
            }
            if (metaspace) piece = piece.Replace('\u2581', ' ');
            if (first && piece.StartsWith(' ')) piece = piece[1..];
            first = false;
            bytes.AddRange(Encoding.UTF8.GetBytes(piece));
        }
        return DecodeDroppingIncompleteTail(bytes);
    }
}
