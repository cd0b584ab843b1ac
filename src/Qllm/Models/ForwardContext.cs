using Qllm.Models.KvCache;

namespace Qllm.Models;

/// <summary>
/// What a decoder block needs to know about the batch it processes: <see cref="Batch"/> sequences of
/// <see cref="SeqLen"/> new tokens each, starting at <see cref="StartPosition"/>, and the KV cache the
/// block writes its keys and values into (the caller's, or a scratch cache when there is none), and the
/// workspace its activation buffers come from. A struct: one is made per forward call, and decode steps
/// allocate nothing.
/// </summary>
public readonly struct ForwardContext(int batch, int seqLen, int startPosition, IKvCache cache, ForwardWorkspace workspace)
{
    public int Batch { get; } = batch;
    public int SeqLen { get; } = seqLen;
    public int StartPosition { get; } = startPosition;
    public IKvCache Cache { get; } = cache;
    public ForwardWorkspace Workspace { get; } = workspace;
    public int Rows => Batch * SeqLen;
}
