# Independent oracle for Qllm's LLM.int8() layer: bitsandbytes' default (CPU) int8_vectorwise_quant and
# MatMul8bitLt with has_fp16_weights, re-implemented in float32 NumPy:
#   outliers = |X| >= threshold; outlier columns = any over rows; outlier values zeroed before the row absmax;
#   X codes = round(X * 127 / rowmax) with the outlier columns zeroed; W codes = round(W * 127 / rowmax(W))
#   (per output channel); Y = (Xc @ Wc^T) * rowmax(X) * rowmax(W) / 127^2 + X[:, out] @ W[:, out]^T + bias.
# np.round is round-half-to-even, as torch.round. Run once; output committed as llm_int8_golden.json, read by
# tests/Qllm.Tests/Quantization/LlmInt8/LlmInt8GoldenTests.cs.
import json, sys
import numpy as np
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from deterministic_weights import gen

f32 = np.float32
rows, cols, outs = 4, 12, 5
x = gen("li8.x", rows * cols, 2.0).reshape(rows, cols)
x[1, 4] = 9.0       # outlier column 4 (one value above the threshold)
x[2, 9] = -7.5      # outlier column 9
x[3, 0] = 6.0       # exactly at the threshold: an outlier too (|x| >= threshold)
w = gen("li8.w", outs * cols, 0.5).reshape(outs, cols)
bias = gen("li8.b", outs, 0.1)

def llm_int8(x, w, bias, threshold):
    x = x.astype(f32).copy()
    outlier = np.abs(x) >= threshold
    cols_out = outlier.any(axis=0)
    xin = np.where(outlier, f32(0), x)
    rowmax = np.abs(xin).max(axis=1)
    xc = np.round(xin * (f32(127) / rowmax[:, None])).astype(f32)
    xc[:, cols_out] = 0
    wmax = np.abs(w).max(axis=1)
    wc = np.round(w * (f32(127) / wmax[:, None])).astype(f32)
    acc = (xc.astype(np.float64) @ wc.T.astype(np.float64))
    y = acc * rowmax[:, None].astype(np.float64) * wmax[None, :].astype(np.float64) / 127.0 ** 2
    y += x[:, cols_out].astype(np.float64) @ w[:, cols_out].T.astype(np.float64)
    return (y + bias[None, :]).astype(f32), int(cols_out.sum())

cases = []
for threshold in (6.0, 100.0):
    y, found = llm_int8(x, w, bias, threshold)
    cases.append({"threshold": threshold, "outlier_columns": found, "output": y.reshape(-1).tolist()})

json.dump({
    "rows": rows, "cols": cols, "outs": outs,
    "x": {"name": "li8.x", "scale": 2.0, "edits": [[1, 4, 9.0], [2, 9, -7.5], [3, 0, 6.0]]},
    "w": {"name": "li8.w", "scale": 0.5}, "bias": {"name": "li8.b", "scale": 0.1},
    "cases": cases,
}, open(__file__.rsplit('/', 1)[0] + "/llm_int8_golden.json", "w"), indent=1)
