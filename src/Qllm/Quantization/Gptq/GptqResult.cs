namespace Qllm.Quantization.Gptq;

/// <summary>What <see cref="GptqSolver.Quantize"/> produced for one layer.</summary>
/// <param name="Quantized">Codes, scales and zeros; <see cref="QuantizedWeight.GroupIndex"/> (g_idx) is set whenever act-order is on.</param>
/// <param name="Dequantized">The fake-quantized weight [rows, columns], equal to Quantized.Dequantize().</param>
/// <param name="Loss">
/// The reference's reported "error": Σ (w − q)² / d² / 2 over the matrix, w the updated weight when its column was
/// quantized and d the matching diagonal entry of the Cholesky factor of H⁻¹ (Frantar et al. 2022, Eq. 2–3).
/// </param>
/// <param name="Damp">The damping actually added to diag(H) (after any retries).</param>
/// <param name="DampRetries">How many times the factorisation failed and the damping was multiplied by 10.</param>
public sealed record GptqResult(QuantizedWeight Quantized, float[] Dequantized, double Loss, double Damp, int DampRetries, TimeSpan Elapsed);
