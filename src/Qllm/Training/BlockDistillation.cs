using System.Diagnostics;

namespace Qllm.Training;

/// <summary>Losses of one block's distillation: the MSE of each step's batch, and over all windows before and after.</summary>
public sealed record DistillationResult(IReadOnlyList<double> StepLosses, double InitialMse, double FinalMse, double Seconds);

/// <summary>
/// Trains a block to reproduce target outputs from given inputs (ZeroQuant's LKD objective, Yao et al. 2022 eq. 5):
/// L = MSE(student(x), teacher(x)), the mean over every element as torch's mse_loss, minimised with Adam. Step s takes
/// the next <c>batch</c> windows in order, cycling through the set (one epoch after another, as a data loader without
/// shuffling). The MSE over all windows is measured before the first step and after the last.
/// </summary>
public static class BlockDistillation
{
    public static DistillationResult Run(BlockTrainer trainer, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int samples, int seqLen, int width,
        double learningRate, int steps, int batchWindows, Action<int, double>? onStep = null)
    {
        var clock = Stopwatch.StartNew();
        int batch = Math.Min(batchWindows, samples), window = seqLen * width, length = batch * window;
        trainer.ParametersChanged();
        double initial = Mse(trainer, inputs, targets, samples, seqLen, window, batch);
        var adam = new Adam(trainer.Parameters, learningRate);
        float[] x = new float[length], target = new float[length], y = new float[length], gradient = new float[length], inputGradient = new float[length];
        var losses = new List<double>(steps);
        for (int step = 0; step < steps; step++)
        {
            for (int j = 0; j < batch; j++)
            {
                int sample = (step * batch + j) % samples;
                inputs.Slice(sample * window, window).CopyTo(x.AsSpan(j * window));
                targets.Slice(sample * window, window).CopyTo(target.AsSpan(j * window));
            }
            trainer.ZeroGradients();
            trainer.Forward(x, batch, seqLen, y);
            double loss = MseGradient(y, target, gradient);
            trainer.Backward(gradient, inputGradient);
            adam.Step();
            trainer.ParametersChanged();
            losses.Add(loss);
            onStep?.Invoke(step + 1, loss);
        }
        double final = Mse(trainer, inputs, targets, samples, seqLen, window, batch);
        return new DistillationResult(losses, initial, final, clock.Elapsed.TotalSeconds);
    }

    /// <summary>mean((y − t)²) and its gradient 2(y − t)/N.</summary>
    public static double MseGradient(ReadOnlySpan<float> output, ReadOnlySpan<float> target, Span<float> gradient)
    {
        double sum = 0;
        float scale = 2f / output.Length;
        for (int i = 0; i < output.Length; i++)
        {
            float difference = output[i] - target[i];
            sum += (double)difference * difference;
            gradient[i] = scale * difference;
        }
        return sum / output.Length;
    }

    /// <summary>The student's MSE over all windows, in batches (the forward keeps activations for a backward, so it is not run on everything at once).</summary>
    private static double Mse(BlockTrainer trainer, ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int samples, int seqLen, int window, int batch)
    {
        var output = new float[batch * window];
        double sum = 0;
        for (int first = 0; first < samples; first += batch)
        {
            int count = Math.Min(batch, samples - first), length = count * window;
            trainer.Forward(inputs.Slice(first * window, length), count, seqLen, output);
            var expected = targets.Slice(first * window, length);
            for (int i = 0; i < length; i++)
            {
                double difference = output[i] - expected[i];
                sum += difference * difference;
            }
        }
        return sum / ((double)samples * window);
    }
}
