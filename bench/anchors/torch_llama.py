"""Anchor: the same LLaMA-shaped model in PyTorch CPU eager mode (float32), with random weights.
The architecture follows HF LlamaForCausalLM: RMSNorm, rotate-half RoPE, causal attention, SwiGLU, untied head.
Usage: torch_llama.py --seqlen 512 [--threads 2] [--dim 768 --layers 12 --heads 12 --hidden 2048 --vocab 32000]
Prints JSON with tokens/s of one forward pass over one sequence (median of repeats, after a warm-up)."""
import argparse, json, math, time
import torch

p = argparse.ArgumentParser()
p.add_argument("--seqlen", type=int, default=512)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--dim", type=int, default=768)
p.add_argument("--layers", type=int, default=12)
p.add_argument("--heads", type=int, default=12)
p.add_argument("--hidden", type=int, default=2048)
p.add_argument("--vocab", type=int, default=32000)
p.add_argument("--repeats", type=int, default=3)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
hd = a.dim // a.heads

def linear(o, i):
    return torch.nn.Linear(i, o, bias=False)

class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = linear(a.dim, a.dim), linear(a.dim, a.dim), linear(a.dim, a.dim), linear(a.dim, a.dim)
        self.gate, self.up, self.down = linear(a.hidden, a.dim), linear(a.hidden, a.dim), linear(a.dim, a.hidden)
        self.n1, self.n2 = torch.nn.Parameter(torch.ones(a.dim)), torch.nn.Parameter(torch.ones(a.dim))

def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w

def rotate_half(x):
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat((-x2, x1), dim=-1)

blocks = [Block() for _ in range(a.layers)]
embed = torch.randn(a.vocab, a.dim)
head = linear(a.vocab, a.dim)
norm = torch.ones(a.dim)
inv = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))

def forward(tokens):
    t = tokens.shape[0]
    freqs = torch.outer(torch.arange(t).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((t, t), float("-inf")).triu(1)
    h = embed[tokens]
    for b in blocks:
        x = rms(h, b.n1)
        q = b.q(x).view(t, a.heads, hd).transpose(0, 1)
        k = b.k(x).view(t, a.heads, hd).transpose(0, 1)
        v = b.v(x).view(t, a.heads, hd).transpose(0, 1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        s = (q @ k.transpose(1, 2)) / math.sqrt(hd) + mask
        att = torch.softmax(s, dim=-1) @ v
        h = h + b.o(att.transpose(0, 1).reshape(t, a.dim))
        x = rms(h, b.n2)
        h = h + b.down(torch.nn.functional.silu(b.gate(x)) * b.up(x))
    return head(rms(h, norm))

tokens = torch.randint(0, a.vocab, (a.seqlen,))
with torch.no_grad():
    forward(tokens)
    samples = []
    while len(samples) < a.repeats:
        s = time.perf_counter(); forward(tokens); samples.append(time.perf_counter() - s)
samples.sort()
t = samples[len(samples) // 2]
print(json.dumps({"anchor": "pytorch-eager", "torch": torch.__version__, "threads": a.threads, "seqlen": a.seqlen,
                  "tokens_per_s": a.seqlen / t, "median_s": t}))
