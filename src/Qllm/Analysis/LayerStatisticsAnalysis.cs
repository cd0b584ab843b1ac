using Qllm.Calibration;
using Qllm.Models;

namespace Qllm.Analysis;

/// <summary>
/// Runs calibration windows through a quantized model with a <see cref="LayerStatisticsObserver"/> on every
/// block linear (and on the LM head when it was quantized), one window at a time, and collects one
/// <see cref="LayerStatistics"/> per layer in execution order. The model is left as it was.
/// </summary>
public static class LayerStatisticsAnalysis
{
    public static IReadOnlyList<LayerStatistics> Run(CausalLanguageModel model, FullPrecisionLayers fullPrecision, CalibrationSet set, IProgress<int>? windowsDone = null)
    {
        bool headQuantized = fullPrecision.Replaced(model.Head);
        var slots = model.BlockLinears().ToList();
        if (headQuantized) slots.Add(model.Head);
        var observers = slots.Select(slot => new LayerStatisticsObserver(fullPrecision[slot])).ToList();
        for (int i = 0; i < slots.Count; i++) slots[i].Hooks.Add(observers[i]);
        try
        {
            int seqLen = set.SeqLen;
            float[]? logits = headQuantized ? new float[checked(seqLen * model.Config.VocabSize)] : null;
            for (int s = 0; s < set.Samples; s++)
            {
                float[] headInput = model.ForwardHidden(set.Sample(s), 1, seqLen);
                if (logits != null) model.Logits(headInput, logits, seqLen);
                windowsDone?.Report(s + 1);
            }
        }
        finally
        {
            for (int i = 0; i < slots.Count; i++) slots[i].Hooks.Remove(observers[i]);
        }
        return slots.Select((slot, i) => observers[i].Result(slot)).ToList();
    }
}
