# Independent oracle for Qllm's SmoothQuant scales and folding: the reference's smooth_ln_fcs
# (mit-han-lab/smoothquant smoothquant/smooth.py) re-implemented in float32 NumPy:
#   weight_scales = max over the layers of max_i |W[i, j]|, clamped at 1e-5
#   s_j = clamp(act_j ** alpha / weight_scales_j ** (1 - alpha), min=1e-5)
#   ln.weight /= s, ln.bias /= s, fc.weight *= s (input columns)
# Run once; its output is committed as smoothquant_golden.json and read by
# tests/Qllm.Tests/Quantization/SmoothQuant/SmoothQuantGoldenTests.cs.
import json, sys
import numpy as np
sys.path.insert(0, __file__.rsplit('/', 1)[0])
from deterministic_weights import gen

f32 = np.float32
channels = 8
act = np.abs(gen("sq.act", channels, 4.0))
act[0] = 0.0            # a dead channel: its scale hits the 1e-5 clamp
act[3] = 50.0           # an outlier channel
q = gen("sq.q", 5 * channels, 0.5).reshape(5, channels)
k = gen("sq.k", 3 * channels, 0.5).reshape(3, channels)
q[:, 6] = 0.0
k[:, 6] = 0.0           # a column that is zero in every layer: its weight maximum hits the 1e-5 clamp
ln_w = gen("sq.lnw", channels, 0.1, 1.0)
ln_b = gen("sq.lnb", channels, 0.1)

cases = []
for alpha in (0.5, 0.85):
    a = f32(alpha)
    wmax = np.maximum(np.abs(q).max(axis=0), np.abs(k).max(axis=0))
    wmax = np.maximum(wmax, f32(1e-5)).astype(f32)
    s = np.maximum(np.power(act, a) / np.power(wmax, f32(1) - a), f32(1e-5)).astype(f32)
    cases.append({
        "alpha": alpha,
        "scales": s.tolist(),
        "norm_weight": (ln_w / s).astype(f32).tolist(),
        "norm_bias": (ln_b / s).astype(f32).tolist(),
        "q_weight": (q * s[None, :]).astype(f32).reshape(-1).tolist(),
    })

json.dump({
    "channels": channels,
    "activation_max": act.astype(f32).tolist(),
    "q": {"name": "sq.q", "rows": 5, "scale": 0.5, "zero_column": 6},
    "k": {"name": "sq.k", "rows": 3, "scale": 0.5, "zero_column": 6},
    "norm": {"weight": ["sq.lnw", 0.1, 1.0], "bias": ["sq.lnb", 0.1]},
    "cases": cases,
}, open(__file__.rsplit('/', 1)[0] + "/smoothquant_golden.json", "w"), indent=1)
