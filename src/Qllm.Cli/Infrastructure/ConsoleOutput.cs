using Spectre.Console;

namespace Qllm.Cli.Infrastructure;

/// <summary>
/// Human-facing output. Progress and status go to stderr so that stdout carries only the results
/// (Markdown tables, generated text) and can be piped.
/// </summary>
public static class ConsoleOutput
{
    public static readonly IAnsiConsole Status = AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
    });

    /// <summary>A status line on stderr, unwrapped (Spectre would wrap it at 80 columns when stderr is not a terminal).</summary>
    public static void Info(string message) => Console.Error.WriteLine(message);

    /// <summary>Runs work under a progress bar (description, bar, percentage, time left) on stderr.</summary>
    public static T WithProgress<T>(string description, Func<Action<double, string>, T> work)
    {
        T result = default!;
        Status.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(description), maxValue: 1.0);
                result = work((fraction, detail) =>
                {
                    task.Value = fraction;
                    task.Description = Markup.Escape($"{description} {detail}");
                });
                task.Value = 1.0;
            });
        return result;
    }
}
