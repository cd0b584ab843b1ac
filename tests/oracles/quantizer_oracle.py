# Independent oracle for Qllm's weight quantizer: GPTQ's Quantizer (find_params with perchannel=True,
# optional mse search with norm 2.4, grid 100, maxshrink 0.8; quantize = scale * (clamp(round(x/scale)+zero) - zero)),
# re-implemented in float32 NumPy from the reference semantics. Run once; its output is committed as
# quantizer_golden.json and read by tests/Qllm.Tests/Quantization/QuantizerGoldenTests.cs.
import json, sys
import numpy as np
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from deterministic_weights import gen

f32 = np.float32

def find_params(x, bits, sym, mse):
    maxq = f32(2 ** bits - 1)
    xmin = np.minimum(x.min(axis=1), f32(0))
    xmax = np.maximum(x.max(axis=1), f32(0))
    if sym:
        xmax = np.maximum(np.abs(xmin), xmax)
        neg = xmin < 0
        xmin = np.where(neg, -xmax, xmin)
    both_zero = (xmin == 0) & (xmax == 0)
    xmin = np.where(both_zero, f32(-1), xmin).astype(f32)
    xmax = np.where(both_zero, f32(1), xmax).astype(f32)
    scale = ((xmax - xmin) / maxq).astype(f32)
    zero = np.full_like(scale, f32((maxq + 1) / 2)) if sym else np.round(-xmin / scale).astype(f32)
    if mse:
        best = np.full(x.shape[0], np.inf)
        for i in range(int(0.8 * 100)):
            p = f32(1 - i / 100)
            xmin1, xmax1 = (p * xmin).astype(f32), (p * xmax).astype(f32)
            scale1 = ((xmax1 - xmin1) / maxq).astype(f32)
            zero1 = zero if sym else np.round(-xmin1 / scale1).astype(f32)
            q = quantize(x, scale1[:, None], zero1[:, None], maxq)
            err = (np.abs(q - x).astype(np.float64) ** 2.4).sum(axis=1)
            better = err < best
            best = np.where(better, err, best)
            scale = np.where(better, scale1, scale).astype(f32)
            zero = np.where(better, zero1, zero).astype(f32)
    return scale, zero

def quantize(x, scale, zero, maxq):
    q = np.clip(np.round(x / scale) + zero, 0, maxq).astype(f32)
    return (scale * (q - zero)).astype(f32)

def fake_quant(w, bits, sym, group, mse):
    rows, cols = w.shape
    g = cols if group < 0 else group
    out = np.empty_like(w)
    for start in range(0, cols, g):
        seg = w[:, start:start + g]
        scale, zero = find_params(seg, bits, sym, mse)
        out[:, start:start + g] = quantize(seg, scale[:, None], zero[:, None], f32(2 ** bits - 1))
    return out

rows, cols = 6, 40
w = gen("quantizer.golden.weight", rows * cols, 1.0).reshape(rows, cols)
w[1, 5] = f32(6.0)      # an outlier, so that clipping matters
w[2, :] = f32(0.0)      # an all-zero row
w[3, :] = np.abs(w[3, :])  # all non-negative
cases = []
for bits, sym, group, mse in [(4, False, -1, False), (4, True, -1, False), (3, False, 16, False), (3, True, 16, False),
                              (2, False, 8, False), (8, False, -1, False), (4, False, -1, True), (3, True, -1, True), (4, False, 16, True)]:
    cases.append({"bits": bits, "sym": sym, "group": group, "mse": mse,
                  "output": [float(v) for v in fake_quant(w.copy(), bits, sym, group, mse).ravel()]})
doc = {"source": "tests/oracles/quantizer_oracle.py (NumPy float32, GPTQ quant.py semantics)",
       "weight": {"name": "quantizer.golden.weight", "rows": rows, "cols": cols, "scale": 1.0,
                  "edits": "w[1,5]=6; w[2,:]=0; w[3,:]=|w[3,:]|"},
       "cases": cases}
with open(__file__.rsplit('/', 1)[0] + "/quantizer_golden.json", "w") as f:
    json.dump(doc, f)
print("wrote", len(cases), "cases")
