namespace Qllm.Common;

/// <summary>
/// An error caused by the user's input (a missing or malformed file, an impossible option,
/// an unsupported architecture). The CLI prints its message alone, without a stack trace,
/// and exits with code 2. Anything else that escapes is a bug.
/// </summary>
public class QllmException : Exception
{
    public QllmException(string message) : base(message) { }
    public QllmException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A model, tokenizer or data file that cannot be read. The message names the file (and tensor, where there is one).</summary>
public sealed class ModelFormatException : QllmException
{
    public string FilePath { get; }
    public string? TensorName { get; }

    public ModelFormatException(string filePath, string detail, string? tensorName = null, Exception? inner = null)
        : base(Format(filePath, detail, tensorName), inner ?? new Exception(detail))
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string filePath, string detail, string? tensorName) =>
        tensorName is null ? $"{filePath}: {detail}" : $"{filePath}: tensor '{tensorName}': {detail}";
}
