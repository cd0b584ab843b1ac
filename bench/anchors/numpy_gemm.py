"""Anchor: float32 GEMM through NumPy (OpenBLAS sgemm), Y = X @ W.T as a linear layer computes it.
Prints one JSON object per shape. Usage: numpy_gemm.py M N K [M N K ...]"""
import json, sys, time
import numpy as np

def median_time(f, repeats=5, min_seconds=0.5):
    f()
    samples, start = [], time.perf_counter()
    while len(samples) < repeats or time.perf_counter() - start < min_seconds:
        t = time.perf_counter(); f(); samples.append(time.perf_counter() - t)
    samples.sort()
    return samples[len(samples) // 2]

args = [int(a) for a in sys.argv[1:]]
blas = "openblas" if "openblas" in str(np.__config__.blas_opt_info if hasattr(np.__config__, "blas_opt_info") else "") else "numpy-default"
for m, n, k in zip(args[0::3], args[1::3], args[2::3]):
    rng = np.random.default_rng(1)
    x = rng.random((m, k), dtype=np.float32) - 0.5
    w = rng.random((n, k), dtype=np.float32) - 0.5
    wt = np.ascontiguousarray(w.T)
    out = np.empty((m, n), dtype=np.float32)
    t = median_time(lambda: np.matmul(x, wt, out=out))
    print(json.dumps({"anchor": "numpy", "blas": blas, "m": m, "n": n, "k": k, "gflops": 2 * m * n * k / t / 1e9, "median_s": t}))
