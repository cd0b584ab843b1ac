using Qllm.Common;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Runs a command's body and turns failures into one clear line on stderr: exit code 2 for bad input
/// (<see cref="QllmException"/>, unreadable files), 1 for anything else. The stack trace is shown only with --verbose.
/// </summary>
public static class CliRunner
{
    public const int UserError = 2;
    public const int InternalError = 1;

    public static int Run(bool verbose, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is QllmException or FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (verbose) Console.Error.WriteLine(e);
            return UserError;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(verbose ? e.ToString() : "(this is a bug in qllm; run again with --verbose for the stack trace)");
            return InternalError;
        }
    }
}
