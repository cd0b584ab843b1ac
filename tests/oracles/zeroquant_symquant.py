"""Golden values for ZeroQuantGridTests: DeepSpeed compression's SymQuantizer forward (deepspeed/compression/utils.py),
re-stated in torch: scale = 2*absmax/2^b per group, q = clamp(round(x/scale), -2^(b-1), 2^(b-1)-1) * scale.
Groups here are rows (num_groups = rows), as for per-channel weights and per-token activations."""
import torch

def sym_quant(x, bits, num_groups):
    q_range = 2 ** bits
    shape = x.shape
    g = x.reshape(num_groups, -1)
    max_input = torch.amax(torch.abs(g), dim=-1).view(num_groups, -1)
    scale = 2 * max_input / q_range
    return ((g / scale).round().clamp(-q_range // 2, q_range // 2 - 1) * scale).reshape(shape)

x = torch.tensor([[0.3, -0.7, 0.05, 0.69, -0.2625, 0.0],
                  [-1.2, 0.4, 1.2, 0.15, 0.075, -0.6]], dtype=torch.float32)
for bits in (4, 8):
    q = sym_quant(x, bits, x.shape[0])
    print(f"bits {bits}:", ", ".join(f"{v:.9g}f" for v in q.flatten().tolist()))
