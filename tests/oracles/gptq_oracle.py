# Independent oracle for Qllm's GPTQ solver (src/Qllm/Quantization/Gptq): the reference's GPTQ.add_batch and
# GPTQ.fasterquant (Frantar et al. 2022, Algorithm 1 with lazy batch updates, act-order, static groups) transcribed
# into NumPy from the paper and the reference semantics. Precision follows the reference where it matters for
# rounding: the weights, the quantizer and every update run in float32 (as torch does); the Hessian and the
# Cholesky / inverse / Cholesky chain that gives Hinv run in float64 and Hinv is then cast to float32 (the C#
# solver does the same, so only summation order differs). Run once; the output is committed as gptq_golden.json
# and read by tests/Qllm.Tests/Quantization/Gptq/GptqGoldenTests.cs.
import json, sys
import numpy as np
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from deterministic_weights import gen

f32 = np.float32


def grid_for(x, maxq, sym):
    """GPTQ Quantizer.find_params (perchannel, weight=True) without the mse search: one (scale, zero) per row."""
    lo = np.minimum(x.min(axis=1), 0).astype(f32)
    hi = np.maximum(x.max(axis=1), 0).astype(f32)
    if sym:
        hi = np.maximum(-lo, hi)
        lo = np.where(lo < 0, -hi, lo).astype(f32)
    flat = (lo == 0) & (hi == 0)
    lo, hi = np.where(flat, f32(-1), lo), np.where(flat, f32(1), hi)
    scale = ((hi - lo) / maxq).astype(f32)
    zero = np.full_like(scale, (maxq + 1) // 2) if sym else np.round(-lo / scale).astype(f32)
    return scale, zero, lo, hi


def fake(x, scale, zero, maxq):
    code = np.clip(np.round(x / scale) + zero, 0, maxq).astype(f32)
    return (scale * (code - zero)).astype(f32)


def find_params(x, maxq, sym, mse):
    scale, zero, lo, hi = grid_for(x, maxq, sym)
    if not mse:
        return scale, zero
    best_err = np.full(x.shape[0], np.inf)
    for step in range(80):  # shrink factors 1, 0.99, ..., 0.21 (grid 100, maxshrink 0.8); Σ|err|^2.4
        shrink = f32(1 - step / 100)
        l1, h1 = (shrink * lo).astype(f32), (shrink * hi).astype(f32)
        s1 = ((h1 - l1) / maxq).astype(f32)
        z1 = zero if sym else np.round(-l1 / s1).astype(f32)
        err = (np.abs(fake(x, s1[:, None], z1[:, None], maxq) - x).astype(np.float64) ** 2.4).sum(axis=1)
        take = err < best_err
        best_err = np.where(take, err, best_err)
        scale, zero = np.where(take, s1, scale).astype(f32), np.where(take, z1, zero).astype(f32)
    return scale, zero


def hessian(x_batches, columns):
    h, n = np.zeros((columns, columns)), 0
    for x in x_batches:
        h *= n / (n + x.shape[0])
        n += x.shape[0]
        x64 = x.astype(np.float64)
        h += (2.0 / n) * (x64.T @ x64)
    return h


def fasterquant(w0, h0, bits, sym, group, actorder, static, mse, blocksize, percdamp=0.01):
    rows, cols = w0.shape
    maxq = f32(2 ** bits - 1)
    w, h = w0.copy(), h0.copy()
    gsize = group if group > 0 else cols
    scales = np.zeros((rows, (cols + gsize - 1) // gsize), f32)
    zeros = np.zeros_like(scales)
    if group < 0:
        scales[:, 0], zeros[:, 0] = find_params(w, maxq, sym, mse)   # before dead columns are zeroed
    dead = np.diag(h) == 0
    h[dead, dead] = 1
    w[:, dead] = 0
    if static:
        for g in range(scales.shape[1]):
            scales[:, g], zeros[:, g] = find_params(w[:, g * gsize:(g + 1) * gsize], maxq, sym, mse)
    perm = np.argsort(-np.diag(h), kind="stable") if actorder else np.arange(cols)
    w, h = w[:, perm], h[perm][:, perm]
    h[np.arange(cols), np.arange(cols)] += percdamp * np.mean(np.diag(h))
    chol = np.linalg.cholesky(h)
    chol_inv = np.linalg.inv(chol)
    hinv = np.linalg.cholesky(chol_inv.T @ chol_inv).T.astype(f32)   # upper U with H^-1 = U^T U
    q_all = np.zeros_like(w)
    losses = np.zeros_like(w)
    used_group = np.zeros(cols, dtype=np.int64)
    for i1 in range(0, cols, blocksize):
        i2 = min(i1 + blocksize, cols)
        w1 = w[:, i1:i2].copy()
        err1 = np.zeros_like(w1)
        for i in range(i2 - i1):
            p = i1 + i
            if group > 0 and not static and p % group == 0:
                scales[:, p // group], zeros[:, p // group] = find_params(w[:, p:p + group], maxq, sym, mse)
            g = (perm[p] // group if static else p // group) if group > 0 else 0
            used_group[p] = g
            d = hinv[p, p]
            col = w1[:, i]
            q = fake(col, scales[:, g], zeros[:, g], maxq)
            q_all[:, p] = q
            losses[:, p] = (col - q) ** 2 / d ** 2 / 2
            e = ((col - q) / d).astype(f32)
            w1[:, i:] -= np.outer(e, hinv[p, i1 + i:i2]).astype(f32)
            err1[:, i] = e
        w[:, i2:] -= (err1 @ hinv[i1:i2, i2:]).astype(f32)
    inv = np.argsort(perm)
    g_idx = used_group[inv]
    return q_all[:, inv], g_idx, scales, zeros, float(losses.astype(np.float64).sum())


rows, cols, tokens = 12, 40, 64
w = gen("gptq.golden.weight", rows * cols, 1.0).reshape(rows, cols)
w[4, 9] = f32(3.5)                            # an outlier weight
x = gen("gptq.golden.inputs", tokens * cols, 1.0).reshape(tokens, cols)
x[:, 11] = (x[:, 11] + f32(0.8) * x[:, 10]).astype(f32)   # correlated inputs, so error feedback matters
x[:, 3] = (x[:, 3] * f32(5)).astype(f32)      # a large input, first under act-order
x[:, 7] = f32(0)                              # a dead input column
h = hessian([x[:24], x[24:]], cols)           # two add_batch calls: the running mean
cases = []
for bits, sym, group, actorder, static, mse, block in [
        (4, False, -1, False, False, False, 16), (4, True, -1, True, False, False, 16),
        (3, False, 8, False, False, False, 16), (3, False, 8, True, False, False, 16),
        (4, True, 8, True, True, False, 16), (4, False, 8, False, True, False, 16),
        (3, True, -1, False, False, True, 16), (4, False, 8, True, False, False, 128),
        (4, False, 8, False, False, True, 12)]:
    q, g_idx, scales, zeros, loss = fasterquant(w, h, bits, sym, group, actorder, static, mse, block)
    cases.append({"bits": bits, "sym": sym, "group": group, "actorder": actorder, "static": static, "mse": mse,
                  "blocksize": block, "loss": loss, "g_idx": [int(v) for v in g_idx],
                  "scales": [float(v) for v in scales.ravel()], "zeros": [float(v) for v in zeros.ravel()],
                  "dequantized": [float(v) for v in q.ravel()]})
doc = {"source": "tests/oracles/gptq_oracle.py (NumPy; float32 weights and updates, float64 Hessian and Hinv chain)",
       "weight": {"name": "gptq.golden.weight", "rows": rows, "cols": cols, "edits": "w[4,9]=3.5"},
       "inputs": {"name": "gptq.golden.inputs", "rows": tokens, "cols": cols, "batches": [24, 40],
                  "edits": "x[:,11]+=0.8*x[:,10]; x[:,3]*=5; x[:,7]=0"},
       "percdamp": 0.01, "cases": cases}
with open(__file__.rsplit('/', 1)[0] + "/gptq_golden.json", "w") as f:
    json.dump(doc, f)
print("wrote", len(cases), "cases; losses", [round(c["loss"], 4) for c in cases])
