"""Golden values for Qllm's analysis statistics (RunningMoments, QuantizationError).

A small matrix with one outlier (every value a multiple of 1/4, so float32 holds it exactly) and an
approximation of it on a 0.75 grid. The statistics are computed twice, independently: with NumPy in
float64 over the whole array (two passes), and with the definitions of qllm-infer's
lib/quantization/metric.py in torch (std() unbiased, kurtosis = m4/m2^2 - 3, sqnr = 10 log10(sum a^2 /
sum (a-b)^2), mse = mean (a-b)^2); the script checks that both agree and writes stats_golden.json.

Run: /usr/bin/python3 tests/oracles/stats_oracle.py  (writes tests/oracles/stats_golden.json)
"""
import json
import os

import numpy as np
import torch

rows, cols = 6, 7
values = np.array([[((i * 7 + j * 3) % 11 - 5) / 4 for j in range(cols)] for i in range(rows)], dtype=np.float32)
values[2, 3] = 12.5  # an outlier channel value: heavy tail, large kurtosis
approximation = (np.round(values.astype(np.float64) / 0.75) * 0.75).astype(np.float32)

x = values.astype(np.float64).ravel()
a = approximation.astype(np.float64).ravel()
mean = x.mean()
m2 = ((x - mean) ** 2).mean()
m4 = ((x - mean) ** 4).mean()
golden = {
    "rows": rows,
    "columns": cols,
    "values": values.ravel().tolist(),
    "approximation": approximation.ravel().tolist(),
    "min": float(x.min()),
    "max": float(x.max()),
    "absmax": float(np.abs(x).max()),
    "mean": float(mean),
    "std": float(x.std(ddof=1)),
    "excess_kurtosis": float(m4 / m2 ** 2 - 3),
    "mse": float(((x - a) ** 2).mean()),
    "sqnr_db": float(10 * np.log10((x ** 2).sum() / ((x - a) ** 2).sum())),
}

# The reference's own definitions, in torch float64, must agree with NumPy's.
t, q = torch.tensor(x), torch.tensor(a)
reference = {
    "std": t.std().item(),
    "excess_kurtosis": (((t - t.mean()) ** 4).mean() / ((t - t.mean()) ** 2).mean() ** 2 - 3).item(),
    "mse": (t - q).pow(2).mean().item(),
    "sqnr_db": (10.0 * torch.log10(torch.sum(t ** 2) / torch.sum((t - q) ** 2))).item(),
}
for key, value in reference.items():
    assert abs(value - golden[key]) <= 1e-12 * max(1.0, abs(value)), (key, value, golden[key])

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "stats_golden.json")
with open(path, "w") as f:
    json.dump(golden, f, indent=1)
    f.write("\n")
print({k: v for k, v in golden.items() if k not in ("values", "approximation")})
