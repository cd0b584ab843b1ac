using System.Text.Json;
using Qllm.Common;

namespace Qllm.Generation.Chat;

/// <summary>
/// Picks a chat template: by name (<c>--chat-template</c>), or by recognising the Jinja <c>chat_template</c> of a
/// tokenizer_config.json from the substrings that characterise each known format. Full Jinja is not interpreted; an
/// unknown template is an error that suggests <c>--chat-template</c>.
/// </summary>
public static class ChatTemplates
{
    public const string ConfigFileName = "tokenizer_config.json";

    public static readonly IReadOnlyList<string> Names = ["llama2", "llama3", "chatml", "phi3", "none"];

    /// <summary>The special-token strings a template may name (bos_token, eos_token), as the tokenizer config gives them.</summary>
    public sealed record TokenStrings(string? Bos, string? Eos);

    public static ChatTemplate Create(string name, TokenStrings? tokens = null) => name switch
    {
        "llama2" => new Llama2ChatTemplate(tokens?.Bos ?? "<s>", tokens?.Eos ?? "</s>"),
        "llama3" => new Llama3ChatTemplate(tokens?.Bos ?? "<|begin_of_text|>"),
        "chatml" => new ChatMlTemplate(),
        "phi3" => new Phi3ChatTemplate(tokens?.Eos ?? "<|endoftext|>"),
        "none" => new PlainTextTemplate(),
        _ => throw new QllmException($"--chat-template: '{name}' is not one of {string.Join(", ", Names)}."),
    };

    /// <summary>The built-in template whose characteristic substrings <paramref name="jinja"/> contains, or null.</summary>
    public static string? Recognise(string jinja)
    {
        bool Has(params string[] parts) => parts.All(p => jinja.Contains(p, StringComparison.Ordinal));
        if (Has("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")) return "llama3";
        if (Has("<|im_start|>", "<|im_end|>")) return "chatml";
        if (Has("<|user|>", "<|assistant|>", "<|end|>")) return "phi3";
        if (Has("[INST]", "<<SYS>>")) return "llama2";
        return null;
    }

    /// <summary>
    /// The template for a model: <paramref name="overrideName"/> when given; else the chat_template of the tokenizer_config.json
    /// in <paramref name="folders"/> (the first that has one); else "none" (the model has no chat format).
    /// </summary>
    public static (ChatTemplate Template, string Source) Resolve(string? overrideName, IEnumerable<string> folders)
    {
        string? configPath = folders.Select(f => Path.Combine(f, ConfigFileName)).FirstOrDefault(File.Exists);
        var (jinja, tokens) = configPath is null ? (null, null) : ReadConfig(configPath);
        if (overrideName is not null) return (Create(overrideName, tokens), "--chat-template");
        if (jinja is null) return (Create("none"), configPath is null ? "no tokenizer_config.json" : $"{configPath} has no chat_template");
        string name = Recognise(jinja) ?? throw new QllmException(
            $"{configPath}: the chat_template is not one of the built-in formats ({string.Join(", ", Names.SkipLast(1))}); pass --chat-template NAME.");
        return (Create(name, tokens), configPath!);
    }

    /// <summary>The chat_template (a string, or the "default" entry of a list of named templates) and the bos/eos strings.</summary>
    public static (string? Jinja, TokenStrings Tokens) ReadConfig(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelFormatException(path, "expected a JSON object.");
            string? jinja = null;
            if (root.TryGetProperty("chat_template", out var template))
            {
                jinja = template.ValueKind switch
                {
                    JsonValueKind.String => template.GetString(),
                    JsonValueKind.Array => template.EnumerateArray()
                        .Where(t => t.ValueKind == JsonValueKind.Object && t.TryGetProperty("name", out var n) && n.GetString() == "default")
                        .Select(t => t.TryGetProperty("template", out var body) ? body.GetString() : null).FirstOrDefault(),
                    JsonValueKind.Null => null,
                    _ => throw new ModelFormatException(path, "chat_template is neither a string nor a list of named templates."),
                };
            }
            return (jinja, new TokenStrings(TokenString(root, "bos_token"), TokenString(root, "eos_token")));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
    }

    /// <summary>A token is a plain string or an AddedToken object {"content": ...}.</summary>
    private static string? TokenString(JsonElement root, string field) =>
        !root.TryGetProperty(field, out var value) ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("content", out var content) ? content.GetString()
        : null;
}
