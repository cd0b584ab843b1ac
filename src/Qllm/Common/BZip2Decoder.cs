namespace Qllm.Common;

/// <summary>
/// Decompresses bzip2 data (Seward's format: Huffman-coded MTF/RLE2 symbols, inverse Burrows–Wheeler
/// transform, then the initial run-length stage), the form HellaSwag's llama.cpp text is shipped in; .NET has no
/// bzip2 codec. Each block's CRC is checked, so corrupt input fails rather than yielding wrong text.
/// </summary>
public static class BZip2Decoder
{
    private const int MaxGroups = 6, MaxAlphabet = 258, GroupSize = 50, MaxCodeLength = 20;

    public static byte[] Decompress(byte[] data, string sourceName)
    {
        var output = new MemoryStream();
        var bits = new BitReader(data, sourceName);
        do
        {
            if (bits.Read(8) != 'B' || bits.Read(8) != 'Z' || bits.Read(8) != 'h')
                throw new ModelFormatException(sourceName, "not a bzip2 stream");
            int level = bits.Read(8) - '0';
            if (level is < 1 or > 9) throw new ModelFormatException(sourceName, "bad bzip2 block size");
            while (true)
            {
                long magic = ((long)bits.Read(24) << 24) | (uint)bits.Read(24);
                uint crc = (uint)bits.Read(32);
                if (magic == 0x177245385090L) break; // end of stream (crc is the combined CRC)
                if (magic != 0x314159265359L) throw new ModelFormatException(sourceName, "bad bzip2 block header");
                byte[] block = DecodeBlock(bits, level * 100_000, sourceName);
                if (Crc(block) != crc) throw new ModelFormatException(sourceName, "bzip2 block CRC mismatch");
                output.Write(block);
            }
            bits.AlignToByte();
        } while (!bits.AtEnd);
        return output.ToArray();
    }

    private static byte[] DecodeBlock(BitReader bits, int maxBlock, string source)
    {
        if (bits.Read(1) != 0) throw new ModelFormatException(source, "randomised bzip2 blocks are not supported");
        int origin = bits.Read(24);

        // Symbol map: which byte values occur.
        var used = new List<byte>();
        int ranges = bits.Read(16);
        for (int i = 0; i < 16; i++)
            if ((ranges & (0x8000 >> i)) != 0)
            {
                int mask = bits.Read(16);
                for (int j = 0; j < 16; j++)
                    if ((mask & (0x8000 >> j)) != 0) used.Add((byte)(i * 16 + j));
            }
        if (used.Count == 0) throw new ModelFormatException(source, "bzip2 block uses no symbols");
        int alphabet = used.Count + 2;

        int groups = bits.Read(3), selectorCount = bits.Read(15);
        if (groups is < 2 or > MaxGroups || selectorCount == 0) throw new ModelFormatException(source, "bad bzip2 Huffman groups");
        var order = Enumerable.Range(0, groups).Select(i => (byte)i).ToArray();
        var selectors = new byte[selectorCount];
        for (int i = 0; i < selectorCount; i++)
        {
            int j = 0;
            while (bits.Read(1) == 1) if (++j >= groups) throw new ModelFormatException(source, "bad bzip2 selector");
            byte value = order[j];
            Array.Copy(order, 0, order, 1, j);
            order[0] = value;
            selectors[i] = value;
        }

        var tables = new HuffmanTable[groups];
        for (int g = 0; g < groups; g++)
        {
            var lengths = new int[alphabet];
            int length = bits.Read(5);
            for (int s = 0; s < alphabet; s++)
            {
                while (true)
                {
                    if (length is < 1 or > MaxCodeLength) throw new ModelFormatException(source, "bad bzip2 code length");
                    if (bits.Read(1) == 0) break;
                    length += bits.Read(1) == 0 ? 1 : -1;
                }
                lengths[s] = length;
            }
            tables[g] = new HuffmanTable(lengths);
        }

        // Huffman → MTF indices with RUNA/RUNB zero runs → bytes of the BWT output.
        var mtf = used.ToArray();
        var tt = new int[maxBlock];
        var counts = new int[256];
        int count = 0, selector = 0, left = 0, runLength = 0, runWeight = 1;
        HuffmanTable table = tables[0];
        while (true)
        {
            if (left-- == 0)
            {
                if (selector >= selectorCount) throw new ModelFormatException(source, "bzip2 selectors run out");
                table = tables[selectors[selector++]];
                left = GroupSize - 1;
            }
            int symbol = table.Decode(bits, source);
            if (symbol <= 1) // RUNA (1×weight) or RUNB (2×weight): a run of the front byte
            {
                runLength += (symbol + 1) * runWeight;
                runWeight <<= 1;
                if (runLength > maxBlock) throw new ModelFormatException(source, "bzip2 run overflows the block");
                continue;
            }
            if (runLength > 0)
            {
                if (count + runLength > maxBlock) throw new ModelFormatException(source, "bzip2 block overflows");
                byte front = mtf[0];
                counts[front] += runLength;
                while (runLength-- > 0) tt[count++] = front;
                runLength = 0;
                runWeight = 1;
            }
            if (symbol == alphabet - 1) break; // end of block
            if (count >= maxBlock) throw new ModelFormatException(source, "bzip2 block overflows");
            int index = symbol - 1;
            byte value = mtf[index];
            Array.Copy(mtf, 0, mtf, 1, index);
            mtf[0] = value;
            counts[value]++;
            tt[count++] = value;
        }
        if (origin >= count) throw new ModelFormatException(source, "bad bzip2 origin pointer");

        // Inverse BWT: link each position to the next, in the high bits of tt.
        var starts = new int[256];
        for (int i = 0, sum = 0; i < 256; i++) { starts[i] = sum; sum += counts[i]; }
        for (int i = 0; i < count; i++)
        {
            int b = tt[i] & 0xFF;
            tt[starts[b]++] |= i << 8;
        }

        // Walk the chain, undoing the initial RLE: four equal bytes are followed by a repeat count.
        var result = new MemoryStream(count + count / 4);
        int position = tt[origin] >> 8, previous = -1, same = 0;
        for (int n = 0; n < count; n++)
        {
            int entry = tt[position];
            int current = entry & 0xFF;
            position = entry >> 8;
            if (same == 4)
            {
                for (int r = 0; r < current; r++) result.WriteByte((byte)previous);
                same = 0;
                previous = -1;
                continue;
            }
            result.WriteByte((byte)current);
            same = current == previous ? same + 1 : 1;
            previous = current;
        }
        return result.ToArray();
    }

    private static uint Crc(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= (uint)b << 24;
            for (int k = 0; k < 8; k++) crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
        }
        return ~crc;
    }

    /// <summary>Canonical Huffman decoding: codes of one length are consecutive, assigned in symbol order.</summary>
    private sealed class HuffmanTable
    {
        private readonly int[] _first = new int[MaxCodeLength + 1], _count = new int[MaxCodeLength + 1], _offset = new int[MaxCodeLength + 1];
        private readonly int[] _symbols;
        private readonly int _maxLength;

        public HuffmanTable(int[] lengths)
        {
            _maxLength = lengths.Max();
            _symbols = Enumerable.Range(0, lengths.Length).OrderBy(s => lengths[s]).ThenBy(s => s).ToArray();
            foreach (int length in lengths) _count[length]++;
            for (int length = 1, code = 0, index = 0; length <= _maxLength; length++)
            {
                _first[length] = code;
                _offset[length] = index;
                code = (code + _count[length]) << 1;
                index += _count[length];
            }
        }

        public int Decode(BitReader bits, string source)
        {
            int code = 0;
            for (int length = 1; length <= _maxLength; length++)
            {
                code = (code << 1) | bits.Read(1);
                int rank = code - _first[length];
                if (rank >= 0 && rank < _count[length]) return _symbols[_offset[length] + rank];
            }
            throw new ModelFormatException(source, "bad bzip2 Huffman code");
        }
    }

    private sealed class BitReader(byte[] data, string source)
    {
        private int _position;
        private int _bitCount;
        private ulong _buffer;

        public bool AtEnd => _position >= data.Length && _bitCount < 8;

        public int Read(int count)
        {
            while (_bitCount < count)
            {
                if (_position >= data.Length) throw new ModelFormatException(source, "bzip2 data ends early");
                _buffer = (_buffer << 8) | data[_position++];
                _bitCount += 8;
            }
            _bitCount -= count;
            return (int)((_buffer >> _bitCount) & ((1UL << count) - 1));
        }

        public void AlignToByte() => _bitCount -= _bitCount % 8;
    }
}
