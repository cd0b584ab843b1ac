using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Qllm.Cli.Infrastructure;
using Qllm.Evaluation;
using Qllm.Evaluation.Harness;
using Qllm.Evaluation.Tasks;

namespace Qllm.Cli.Commands;

/// <summary>
/// <c>qllm bench hellaswag</c>: HellaSwag scored twice in one run, each question's shared prefix prefilled once
/// (as <c>eval --tasks</c> does), and every choice from scratch, both batched like it and one request per forward
/// pass (lm-eval's default batch size 1), with the speed-up and the largest difference in
/// log-likelihood between the two. Tokenization is done once beforehand and timed apart.
/// </summary>
public static class PrefixReuseBench
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var tokenizer = CommonOptions.Tokenizer();
        var threads = CommonOptions.Threads();
        var dataDir = CommonOptions.DataDirectory();
        var limit = new Option<int> ("--limit") { Description = "Questions to score (the first N of the validation set).", DefaultValueFactory = _ => 200 };
        var batchSize = new Option<int>("--batch-size") { Description = "Requests run together, across questions (4 = one HellaSwag question at a time).", DefaultValueFactory = _ => 4 };
        var command = new Command("hellaswag", "Speed of HellaSwag scoring with and without reuse of each question's shared-prefix KV cache.")
        {
            model, tokenizer, threads, dataDir, limit, batchSize,
        };
        command.SetAction(result => CliRunner.Run(result.GetValue(CommonOptions.Verbose), () =>
        {
            if (result.GetValue(limit) < 1) throw new Common.QllmException($"--limit must be at least 1, got {result.GetValue(limit)}.");
            var (loaded, _) = ModelSession.Load(result.GetValue(model)!, result.GetValue(tokenizer), result.GetValue(threads));
            var documents = new HellaswagTask().LoadDocuments(DataDirectory.Resolve(result.GetValue(dataDir)), null);

            var reuse = new LoglikelihoodScorer(loaded.Model, loaded.RequireTokenizer(), new LoglikelihoodOptions(result.GetValue(batchSize), ReusePrefix: true));
            var scratch = new LoglikelihoodScorer(loaded.Model, loaded.RequireTokenizer(), new LoglikelihoodOptions(result.GetValue(batchSize), ReusePrefix: false));
            // lm-eval's default (batch_size 1): every choice its own forward pass over context + continuation.
            var single = new LoglikelihoodScorer(loaded.Model, loaded.RequireTokenizer(), new LoglikelihoodOptions(1, ReusePrefix: false));
            // Every question is tokenized (for the token bound below) once, before the clocks; the first --limit are timed.
            var clock = Stopwatch.StartNew();
            var allWindows = documents.Select(d => d.Requests.Select(reuse.Window).ToArray()).ToArray();
            double tokenizeSeconds = clock.Elapsed.TotalSeconds;
            var windows = allWindows.Take(result.GetValue(limit)).ToArray();

            var (withReuse, reuseSeconds, reuseCpu) = Time(reuse, windows);
            var (fromScratch, scratchSeconds, scratchCpu) = Time(scratch, windows);
            var (oneByOne, singleSeconds, singleCpu) = Time(single, windows);
            // The work either way in tokens, with no padding, over the whole validation set (only --limit questions are
            // timed): every choice's whole window, against each question's shared prefix once plus what follows it per
            // choice. Their ratio bounds the speed-up whenever a token costs the same in both (the linear layers, which
            // dominate): prefix reuse saves only the repeated context.
            long scratchTokens = allWindows.Sum(q => q.Sum(w => (long)w.Input.Length));
            long reuseTokens = allWindows.Sum(q =>
            {
                int prefix = q.Length > 1 ? LoglikelihoodScorer.SharedPrefix(q) : 0;
                return prefix + q.Sum(w => (long)w.Input.Length - prefix);
            });
            double maxDifference = withReuse.Zip(fromScratch).Concat(withReuse.Zip(oneByOne)).Max(p => Math.Abs(p.First - p.Second));
            var json = new JsonObject
            {
                ["bench"] = "hellaswag-prefix-reuse",
                ["model"] = loaded.ModelPath,
                ["questions"] = windows.Length,
                ["requests"] = withReuse.Length,
                ["batch_size"] = result.GetValue(batchSize),
                ["tokenize_s"] = tokenizeSeconds,
                ["prefix_reuse_s"] = reuseSeconds,
                ["from_scratch_batched_s"] = scratchSeconds,
                ["from_scratch_one_by_one_s"] = singleSeconds,
                ["speedup_vs_batched"] = scratchSeconds / reuseSeconds,
                ["speedup_vs_one_by_one"] = singleSeconds / reuseSeconds,
                ["prefix_reuse_cpu_s"] = reuseCpu,
                ["from_scratch_batched_cpu_s"] = scratchCpu,
                ["from_scratch_one_by_one_cpu_s"] = singleCpu,
                ["cpu_speedup_vs_batched"] = scratchCpu / reuseCpu,
                ["cpu_speedup_vs_one_by_one"] = singleCpu / reuseCpu,
                ["forwarded_tokens_prefix_reuse"] = reuse.ForwardedTokens,
                ["forwarded_tokens_from_scratch_batched"] = scratch.ForwardedTokens,
                ["forwarded_tokens_from_scratch_one_by_one"] = single.ForwardedTokens,
                ["validation_questions"] = allWindows.Length,
                ["validation_unpadded_tokens_from_scratch"] = scratchTokens,
                ["validation_unpadded_tokens_prefix_reuse"] = reuseTokens,
                ["speedup_bound_same_cost_per_token"] = (double)scratchTokens / reuseTokens,
                ["max_abs_loglikelihood_difference"] = maxDifference,
                ["environment"] = ModelSession.Environment(result.GetValue(threads)),
            };
            Console.WriteLine(json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }));
        return command;
    }

    /// <summary>Wall seconds, and the process's CPU seconds, which stay meaningful on a machine shared with other work.</summary>
    private static (double[] LogLikelihoods, double Seconds, double CpuSeconds) Time(LoglikelihoodScorer scorer, ScoringWindow[][] questions)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        var lls = scorer.ScoreWindows(questions).SelectMany(q => q.Select(r => r.LogLikelihood)).ToArray();
        process.Refresh();
        return (lls, clock.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu).TotalSeconds);
    }
}
