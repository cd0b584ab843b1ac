using System.Text.Json.Nodes;
using Qllm.Common;
using Qllm.Generation.Chat;
using Qllm.Tests.Support;
using Qllm.Tokenizers;
using Xunit;

namespace Qllm.Tests.Generation;

/// <summary>
/// The built-in chat templates against the official Hugging Face Jinja templates, rendered by jinja2 with transformers'
/// settings in tests/oracles/chat_template_oracle.py (output: tests/oracles/chat_template_golden.json; the LLaMA-2 string
/// also agrees with the HF output quoted in mistral.rs's chat-template tests).
/// </summary>
public class ChatTemplateTests
{
    private static readonly JsonNode Golden = JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "oracles", "chat_template_golden.json")))!;

    private static List<ChatMessage> Conversation =>
        [.. Golden["conversation"]!.AsArray().Select(m => new ChatMessage(m!["role"]!.GetValue<string>(), m["content"]!.GetValue<string>()))];

    private static ChatTemplate Template(string name) => name switch
    {
        "llama2" => new Llama2ChatTemplate("<s>", "</s>"),
        "llama3" => new Llama3ChatTemplate("<|begin_of_text|>"),
        "chatml" => new ChatMlTemplate(),
        _ => new Phi3ChatTemplate("<|endoftext|>"),
    };

    [Theory]
    [InlineData("llama2")]
    [InlineData("llama3")]
    [InlineData("chatml")]
    [InlineData("phi3")]
    public void RendersTheHuggingFaceStringForAMultiTurnConversation(string name)
    {
        var expected = Golden["rendered"]![name]!;
        var template = Template(name);
        Assert.Equal(expected["with_system"]!.GetValue<string>(), template.Render(Conversation, addGenerationPrompt: true));
        Assert.Equal(expected["without_system"]!.GetValue<string>(), template.Render(Conversation[1..], addGenerationPrompt: true));
        Assert.Equal(expected["no_generation_prompt"]!.GetValue<string>(), template.Render(Conversation[..3], addGenerationPrompt: false));
    }

    [Fact]
    public void Llama2RefusesRolesThatDoNotAlternate()
    {
        var error = Assert.Throws<QllmException>(() => Template("llama2").Render(
            [new ChatMessage("user", "a"), new ChatMessage("user", "b")], addGenerationPrompt: true));
        Assert.Contains("alternate", error.Message);
    }

    [Fact]
    public void TheLlama3PromptTokenizesSpecialTokensAsSingleIds()
    {
        // Ids from the oracle's own tiktoken-style BPE over the LLaMA-3 ranks (128006 <|start_header_id|>, 128009 <|eot_id|>, …).
        var tokenizer = TokenizerLoader.Load(SharedData.Path("models", "tokenizers", "llama3", "tokenizer.model"));
        var encoder = new ChatPromptEncoder(Template("llama3"), tokenizer);
        Assert.Equal(Golden["llama3_ids"]!.AsArray().Select(i => i!.GetValue<int>()), encoder.Encode(Conversation));
        Assert.Equal([128009, 128001], encoder.EndOfTurnIds);
    }

    [Fact]
    public void ThePhi3PromptUsesTheAddedTokensOfItsTokenizer()
    {
        var tokenizer = TokenizerLoader.Load(SharedData.Path("models", "tokenizers", "phi-3-mini", "tokenizer.json"));
        var encoder = new ChatPromptEncoder(Template("phi3"), tokenizer);
        var messages = new List<ChatMessage> { new("user", "Hi") };
        int[] ids = encoder.Encode(messages);
        // The tokenizer reads its added tokens itself (with their rstrip rules), as HF does on the rendered string.
        Assert.Equal(tokenizer.Encode(Template("phi3").Render(messages, addGenerationPrompt: true), addBos: false), ids);
        Assert.Equal([32010, 32007, 32001], ids.Where(i => i >= 32000));  // <|user|> … <|end|> … <|assistant|>
        Assert.Equal([32007, 32000], encoder.EndOfTurnIds);
    }

    [Fact]
    public void ALlama2SentencePieceModelGetsBosAndEosIdsForTheTextItCannotReadAsSpecial()
    {
        // LLaMA-2 ids: "[INST]" = ▁[ INST ] = 518 25580 29962, " [/INST]" = 518 29914 25580 29962 (meta-llama's chat format).
        var tokenizer = TokenizerLoader.Load(SharedData.Path("models", "tokenizers", "llama2", "tokenizer.model"));
        var encoder = new ChatPromptEncoder(Template("llama2"), tokenizer);
        int[] ids = encoder.Encode([new ChatMessage("user", "Hi"), new ChatMessage("assistant", "Yo"), new ChatMessage("user", "Hi")]);
        Assert.Equal([1, 518, 25580, 29962], ids[..4]);
        Assert.Equal([518, 29914, 25580, 29962], ids[^4..]);
        Assert.Equal(2, ids.Count(i => i == 1));
        Assert.Single(ids, 2);
        Assert.Equal([2], encoder.EndOfTurnIds);
    }

    [Fact]
    public void RecognisesTheTemplateOfATokenizerConfig()
    {
        var (template, source) = ChatTemplates.Resolve(null, [SharedData.Path("models", "tokenizers", "phi-3-mini")]);
        Assert.Equal("phi3", template.Name);
        Assert.EndsWith(ChatTemplates.ConfigFileName, source);
        Assert.Equal("llama3", ChatTemplates.Recognise(Golden["rendered"]!["llama3"]!["with_system"]!.GetValue<string>()));
        Assert.Equal("none", ChatTemplates.Resolve(null, [SharedData.Path("models", "stories260K")]).Template.Name);
        Assert.Equal("chatml", ChatTemplates.Resolve("chatml", [SharedData.Path("models", "tokenizers", "phi-3-mini")]).Template.Name);
    }

    [Fact]
    public void AnUnknownTemplateNamesTheFileAndSuggestsTheOption()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File(ChatTemplates.ConfigFileName), "{\"chat_template\": \"{{ messages[0]['content'] }}<custom>\"}");
        var error = Assert.Throws<QllmException>(() => ChatTemplates.Resolve(null, [folder.Path]));
        Assert.Contains(ChatTemplates.ConfigFileName, error.Message);
        Assert.Contains("--chat-template", error.Message);

        File.WriteAllText(folder.File(ChatTemplates.ConfigFileName), "{\"chat_template\": ");
        Assert.Throws<ModelFormatException>(() => ChatTemplates.Resolve(null, [folder.Path]));
    }

    [Fact]
    public void ATemplateTheTokenizerCannotSpellIsRefused()
    {
        var tokenizer = Llama2cTokenizer.Load(SharedModels.Stories260KTokenizer);
        var error = Assert.Throws<QllmException>(() => new ChatPromptEncoder(Template("chatml"), tokenizer));
        Assert.Contains("<|im_start|>", error.Message);
    }
}
