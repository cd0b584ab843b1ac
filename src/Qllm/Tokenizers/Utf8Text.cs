using System.Text;

namespace Qllm.Tokenizers;

/// <summary>UTF-8 bytes to text for decoders that work in bytes.</summary>
internal static class Utf8Text
{
    /// <summary>Decodes bytes, leaving out an incomplete multi-byte sequence at the very end (it may complete with the next token).</summary>
    public static string DecodeComplete(List<byte> bytes)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        var chars = new char[Encoding.UTF8.GetMaxCharCount(span.Length)];
        int count = decoder.GetChars(span, chars, flush: false);
        return new string(chars, 0, count);
    }
}
