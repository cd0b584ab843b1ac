using System.Text.Json;
using Qllm.Common;

namespace Qllm.Tokenizers;

/// <summary>
/// Reads a Hugging Face tokenizer.json with a BPE model. Two kinds are supported: byte-level (GPT-2, OPT,
/// pre_tokenizer ByteLevel) and SentencePiece-style (normalizer Prepend "▁" + Replace " " → "▁", or a
/// Metaspace pre-tokenizer, usually with byte fallback). Anything else is a <see cref="ModelFormatException"/>.
/// </summary>
internal static class HfTokenizerJson
{
    public static ITextTokenizer Load(string path, TokenizerHints? hints)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = doc.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new ModelFormatException(path, "tokenizer.json has no \"model\" object.");
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE")
            throw new ModelFormatException(path, $"tokenizer.json model type '{type}' is not supported (only BPE).");

        var vocab = model.GetProperty("vocab").Deserialize<Dictionary<string, int>>()
            ?? throw new ModelFormatException(path, "tokenizer.json has no model.vocab.");
        var merges = new List<(string A, string B)>();
        foreach (var m in model.GetProperty("merges").EnumerateArray())
        {
            if (m.ValueKind == JsonValueKind.String)
            {
                string s = m.GetString()!;
                int sp = s.IndexOf(' ', 1);
                if (sp < 0) throw new ModelFormatException(path, $"tokenizer.json merge '{s}' is not \"a b\".");
                merges.Add((s[..sp], s[(sp + 1)..]));
            }
            else merges.Add((m[0].GetString()!, m[1].GetString()!));
        }

        var added = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out var addedJson) && addedJson.ValueKind == JsonValueKind.Array)
            foreach (var a in addedJson.EnumerateArray())
                added.Add(new(a.GetProperty("content").GetString()!, a.GetProperty("id").GetInt32(),
                    Bool(a, "special", false), Bool(a, "lstrip", false), Bool(a, "rstrip", false)));

        var config = ReadConfig(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "tokenizer_config.json"));
        int? templateBos = TemplateBos(root, vocab, added);
        int? Id(string? token) => token is null ? null : vocab.TryGetValue(token, out int id) ? id : added.FirstOrDefault(a => a.Content == token)?.Id;

        var pre = Get(root, "pre_tokenizer");
        var norm = Get(root, "normalizer");
        if (ByteLevelPattern(pre, path) is { } pattern)
        {
            if (norm is not null)
                throw new ModelFormatException(path, "byte-level tokenizer.json with a normalizer is not supported.");
            bool opt = hints?.ModelType == "opt" || ByteLevelBpeTokenizer.IsRobertaVocab(vocab);
            int? bos = opt ? (Id("</s>") ?? hints?.BosId ?? 2) : templateBos;
            int? eos = Id(config.EosToken) ?? Id("</s>") ?? Id("<|endoftext|>") ?? hints?.EosId;
            return new ByteLevelBpeTokenizer(vocab, merges, added, pattern, bos, eos);
        }

        bool prepend, prependAlways;
        if (pre is { } meta && Str(meta, "type") == "Metaspace")
        {
            if (norm is not null && Str(norm.Value, "type") != "Precompiled")
                throw new ModelFormatException(path, "tokenizer.json with both a normalizer and a Metaspace pre-tokenizer is not supported.");
            if (meta.TryGetProperty("split", out var split) && split.ValueKind == JsonValueKind.True)
                throw new ModelFormatException(path, "tokenizer.json Metaspace pre-tokenizer with split = true is not supported.");
            string scheme = Str(meta, "prepend_scheme") ?? (Bool(meta, "add_prefix_space", true) ? "always" : "never");
            prepend = scheme != "never";
            prependAlways = scheme == "always";
        }
        else if (pre is null && norm is { } n && IsMetaspaceNormalizer(n, out prepend))
            prependAlways = true;
        else
            throw new ModelFormatException(path,
                $"tokenizer.json kind not supported (pre_tokenizer {Describe(pre)}, normalizer {Describe(norm)}); supported: byte-level BPE and SentencePiece-style BPE.");

        int? bosId = templateBos
            ?? (config.AddBos == true ? Id(config.BosToken) : null)
            ?? hints?.BosId
            ?? (config.AddBos == false ? null : Id(config.BosToken ?? "<s>"));
        int? eosId = Id(config.EosToken) ?? hints?.EosId ?? Id("</s>");
        return new MetaspaceBpeTokenizer(vocab, merges, added, Str(model, "unk_token"),
            Bool(model, "byte_fallback", false), Bool(model, "fuse_unk", false), prepend, prependAlways, bosId, eosId);
    }

    /// <summary>
    /// The pre-tokenizer regex of a byte-level tokenizer.json: ByteLevel with its GPT-2 regex, or
    /// Sequence [Split(regex, Isolated), ByteLevel(use_regex = false)] (LLaMA-3, Qwen2); null for other kinds.
    /// </summary>
    private static string? ByteLevelPattern(JsonElement? pre, string path)
    {
        if (pre is not { } p) return null;
        string? type = Str(p, "type");
        if (type == "ByteLevel")
        {
            CheckNoPrefixSpace(p, path);
            return Bool(p, "use_regex", true) ? ByteLevelBpeTokenizer.Gpt2Pattern : null;
        }
        if (type != "Sequence" || !p.TryGetProperty("pretokenizers", out var list)) return null;
        var items = list.EnumerateArray().ToList();
        if (items.Count != 2 || Str(items[0], "type") != "Split" || Str(items[1], "type") != "ByteLevel" || Bool(items[1], "use_regex", true))
            return null;
        CheckNoPrefixSpace(items[1], path);
        var split = items[0];
        if (Bool(split, "invert", false) || (Str(split, "behavior") ?? "Isolated") != "Isolated"
            || !split.TryGetProperty("pattern", out var pat) || Str(pat, "Regex") is not { } regex)
            throw new ModelFormatException(path, "tokenizer.json Split pre-tokenizer other than an isolated regex is not supported.");
        return regex;
    }

    private static void CheckNoPrefixSpace(JsonElement byteLevel, string path)
    {
        if (Bool(byteLevel, "add_prefix_space", false))
            throw new ModelFormatException(path, "byte-level tokenizer.json with add_prefix_space = true is not supported.");
    }

    private static bool IsMetaspaceNormalizer(JsonElement norm, out bool prepend)
    {
        prepend = false;
        bool replace = false;
        var items = Str(norm, "type") == "Sequence" ? norm.GetProperty("normalizers").EnumerateArray().ToList() : [norm];
        foreach (var item in items)
        {
            switch (Str(item, "type"))
            {
                case "Prepend" when Str(item, "prepend") == "\u2581":
                    prepend = true;
                    break;
                case "Replace" when Str(item, "content") == "\u2581" && item.TryGetProperty("pattern", out var pat)
                                    && pat.TryGetProperty("String", out var s) && s.GetString() == " ":
                    replace = true;
                    break;
                default:
                    return false;
            }
        }
        return replace;
    }

    /// <summary>The special token at the start of post_processor TemplateProcessing's "single" template, if any.</summary>
    private static int? TemplateBos(JsonElement root, Dictionary<string, int> vocab, List<AddedToken> added)
    {
        if (Get(root, "post_processor") is not { } pp) return null;
        IEnumerable<JsonElement> processors = Str(pp, "type") == "Sequence" && pp.TryGetProperty("processors", out var list)
            ? list.EnumerateArray() : [pp];
        foreach (var p in processors)
        {
            if (Str(p, "type") != "TemplateProcessing" || !p.TryGetProperty("single", out var single)) continue;
            var firstItem = single.EnumerateArray().FirstOrDefault();
            if (firstItem.ValueKind != JsonValueKind.Object || !firstItem.TryGetProperty("SpecialToken", out var st)) return null;
            string? name = Str(st, "id");
            if (name is null) return null;
            if (p.TryGetProperty("special_tokens", out var specials) && specials.TryGetProperty(name, out var spec)
                && spec.TryGetProperty("ids", out var ids) && ids.GetArrayLength() > 0)
                return ids[0].GetInt32();
            return vocab.TryGetValue(name, out int id) ? id : added.FirstOrDefault(a => a.Content == name)?.Id;
        }
        return null;
    }

    private sealed record TokenizerConfig(bool? AddBos, string? BosToken, string? EosToken);

    private static TokenizerConfig ReadConfig(string path)
    {
        if (!File.Exists(path)) return new(null, null, null);
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var r = doc.RootElement;
            bool? addBos = r.TryGetProperty("add_bos_token", out var a) && a.ValueKind is JsonValueKind.True or JsonValueKind.False ? a.GetBoolean() : null;
            return new(addBos, TokenText(r, "bos_token"), TokenText(r, "eos_token"));
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, $"invalid JSON: {e.Message}", inner: e);
        }
    }

    private static string? TokenText(JsonElement r, string name) =>
        !r.TryGetProperty(name, out var v) ? null
        : v.ValueKind == JsonValueKind.String ? v.GetString()
        : v.ValueKind == JsonValueKind.Object ? Str(v, "content") : null;

    private static JsonElement? Get(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name, bool fallback) =>
        e.TryGetProperty(name, out var v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;

    private static string Describe(JsonElement? e) => e is { } v ? Str(v, "type") ?? "?" : "null";
}
