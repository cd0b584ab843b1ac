#!/usr/bin/python3
"""Independent NumPy reference forward pass for tiny random-weight Hugging Face checkpoints.

Produces tests/oracles/hf_models.json: for every case the config.json contents, the list of
tensors the checkpoint must contain (HF/PyTorch names and shapes, row-major; values are
deterministic_weights.gen(name, numel, scale, offset) in float32), the input ids and the golden
logits of the causal-LM forward pass.

The math follows the semantics of Hugging Face transformers' modeling code (LlamaForCausalLM,
MistralForCausalLM, Qwen2ForCausalLM, OPTForCausalLM, and the llama3 rope_type of
modeling_rope_utils), written from scratch here. Weights are the float32 generator values,
widened to float64; every intermediate is float64; the logits are rounded to float32 once at
the end. No attention mask / padding: every sequence is full length, positions 0..T-1.

Run:  /usr/bin/python3 tests/oracles/hf_forward_oracle.py        (needs NumPy only)
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from deterministic_weights import gen  # noqa: E402

OUT_PATH = os.path.join(HERE, "hf_models.json")
REL_SOURCE = "tests/oracles/hf_forward_oracle.py (NumPy, float64)"
REL_GEN = "tests/oracles/deterministic_weights.py"

RESULTS = []  # (label, ok)


def check(label, ok, detail=""):
    RESULTS.append((label, bool(ok)))
    print(("PASS" if ok else "FAIL") + ": " + label + ((" -- " + detail) if detail else ""))


def f32(x):
    """The float32 value of x as a Python float (exact; json prints it with repr)."""
    return float(np.float32(x))


# --------------------------------------------------------------------------------------------
# Case definitions: config.json contents and tensor specs
# --------------------------------------------------------------------------------------------

def linear_scale(fan_in, gain=1.5):
    # uniform in [-s, s] has std s/sqrt(3); s = gain/sqrt(fan_in) keeps activations O(1).
    return f32(gain / math.sqrt(fan_in))


def T(name, shape, scale, offset=0.0):
    return {"name": name, "shape": list(shape), "scale": f32(scale), "offset": f32(offset)}


def llama_family_config(arch, model_type, **kw):
    cfg = {
        "architectures": [arch],
        "model_type": model_type,
        "hidden_size": 64,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 128,
        "max_position_embeddings": 128,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "attention_dropout": 0.0,
        "initializer_range": 0.02,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "use_cache": True,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
    }
    cfg.update(kw)
    return cfg


def llama_family_tensors(cfg):
    H = cfg["hidden_size"]
    I = cfg["intermediate_size"]
    nH = cfg["num_attention_heads"]
    nKV = cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nH
    V = cfg["vocab_size"]
    qkv_bias = cfg["model_type"] == "qwen2" or cfg.get("attention_bias", False)
    # Embeddings 0.5 and output projections with gain 3 so that the attention/MLP branches, not
    # the token embedding, dominate the residual stream (with a tied head and a dominant
    # embedding the argmax would just echo the input token).
    ts = [T("model.embed_tokens.weight", [V, H], 0.5)]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        ts.append(T(p + "input_layernorm.weight", [H], 0.2, 1.0))
        ts.append(T(p + "self_attn.q_proj.weight", [nH * hd, H], linear_scale(H, 2.0)))
        if qkv_bias:
            ts.append(T(p + "self_attn.q_proj.bias", [nH * hd], 0.2))
        ts.append(T(p + "self_attn.k_proj.weight", [nKV * hd, H], linear_scale(H, 2.0)))
        if qkv_bias:
            ts.append(T(p + "self_attn.k_proj.bias", [nKV * hd], 0.2))
        ts.append(T(p + "self_attn.v_proj.weight", [nKV * hd, H], linear_scale(H)))
        if qkv_bias:
            ts.append(T(p + "self_attn.v_proj.bias", [nKV * hd], 0.1))
        ts.append(T(p + "self_attn.o_proj.weight", [H, nH * hd], linear_scale(nH * hd, 3.0)))
        ts.append(T(p + "post_attention_layernorm.weight", [H], 0.2, 1.0))
        ts.append(T(p + "mlp.gate_proj.weight", [I, H], linear_scale(H)))
        ts.append(T(p + "mlp.up_proj.weight", [I, H], linear_scale(H)))
        ts.append(T(p + "mlp.down_proj.weight", [H, I], linear_scale(I, 3.0)))
    ts.append(T("model.norm.weight", [H], 0.2, 1.0))
    if not cfg["tie_word_embeddings"]:
        ts.append(T("lm_head.weight", [V, H], 0.5))
    return ts


def opt_config(**kw):
    cfg = {
        "architectures": ["OPTForCausalLM"],
        "model_type": "opt",
        "hidden_size": 64,
        "ffn_dim": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "vocab_size": 128,
        "max_position_embeddings": 64,
        "do_layer_norm_before": True,
        "word_embed_proj_dim": 64,
        "activation_function": "relu",
        "enable_bias": True,
        "layer_norm_elementwise_affine": True,
        "_remove_final_layer_norm": False,
        "dropout": 0.0,
        "attention_dropout": 0.0,
        "activation_dropout": 0.0,
        "layerdrop": 0.0,
        "init_std": 0.02,
        "pad_token_id": 1,
        "bos_token_id": 2,
        "eos_token_id": 2,
        "prefix": "</s>",
        "tie_word_embeddings": True,
        "use_cache": True,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
    }
    cfg.update(kw)
    return cfg


def opt_tensors(cfg):
    H = cfg["hidden_size"]
    F = cfg["ffn_dim"]
    V = cfg["vocab_size"]
    Wd = cfg["word_embed_proj_dim"]
    P = cfg["max_position_embeddings"] + 2
    d = "model.decoder."
    # out_proj / fc2 with gain 4 so the layers, not the (tied) token embedding, decide the logits.
    ts = [T(d + "embed_tokens.weight", [V, Wd], 1.0),
          T(d + "embed_positions.weight", [P, H], 0.3)]
    if Wd != H:
        ts.append(T(d + "project_in.weight", [H, Wd], linear_scale(Wd)))
        ts.append(T(d + "project_out.weight", [Wd, H], linear_scale(H, 2.0)))
    for i in range(cfg["num_hidden_layers"]):
        p = d + "layers.%d." % i
        for proj in ("q_proj", "k_proj", "v_proj"):
            g = 2.0 if proj != "v_proj" else 1.5
            ts.append(T(p + "self_attn.%s.weight" % proj, [H, H], linear_scale(H, g)))
            ts.append(T(p + "self_attn.%s.bias" % proj, [H], 0.1))
        ts.append(T(p + "self_attn.out_proj.weight", [H, H], linear_scale(H, 4.0)))
        ts.append(T(p + "self_attn.out_proj.bias", [H], 0.1))
        ts.append(T(p + "self_attn_layer_norm.weight", [H], 0.2, 1.0))
        ts.append(T(p + "self_attn_layer_norm.bias", [H], 0.1))
        ts.append(T(p + "fc1.weight", [F, H], linear_scale(H, 2.0)))
        ts.append(T(p + "fc1.bias", [F], 0.1))
        ts.append(T(p + "fc2.weight", [H, F], linear_scale(F, 4.0)))
        ts.append(T(p + "fc2.bias", [H], 0.1))
        ts.append(T(p + "final_layer_norm.weight", [H], 0.2, 1.0))
        ts.append(T(p + "final_layer_norm.bias", [H], 0.1))
    if cfg["do_layer_norm_before"] and not cfg.get("_remove_final_layer_norm", False):
        ts.append(T(d + "final_layer_norm.weight", [H], 0.2, 1.0))
        ts.append(T(d + "final_layer_norm.bias", [H], 0.1))
    # No lm_head.weight: OPTForCausalLM ties lm_head to model.decoder.embed_tokens.weight.
    return ts


LLAMA3_ROPE_SCALING = {
    "rope_type": "llama3",
    "factor": 8.0,
    "low_freq_factor": 1.0,
    "high_freq_factor": 4.0,
    # 64, not 32: with rope_theta 500000 and head_dim 16 the wavelengths 2*pi/inv_freq are
    # 6.28, 32.6, 168.8, 874.6, ... (ratio 500000^(1/8) = 5.18 per pair).  The llama3 bands are
    # high: wavelen < 64/4 = 16, medium: 16 <= wavelen <= 64, low: wavelen > 64, so pair 0 is
    # high-frequency (unchanged), pair 1 is medium (smoothed) and pairs 2..7 are low-frequency
    # (divided by factor 8).  With 32 there would be no medium pair (32.6 > 32).  The script
    # verifies this in self-check (b).
    "original_max_position_embeddings": 64,
}


def make_cases():
    cases = []

    cfg = llama_family_config("LlamaForCausalLM", "llama", head_dim=16, rope_theta=500000.0,
                              rope_scaling=dict(LLAMA3_ROPE_SCALING), attention_bias=False,
                              mlp_bias=False, pretraining_tp=1)
    cases.append(("llama3_gqa_untied", cfg, [[1, 17, 93, 45, 8, 120, 63], [1, 5, 77, 31, 102, 64, 19]]))

    cfg = llama_family_config("Qwen2ForCausalLM", "qwen2", rms_norm_eps=1e-6, rope_theta=1000000.0,
                              tie_word_embeddings=True, use_sliding_window=False,
                              sliding_window=None, max_window_layers=2)
    cases.append(("qwen2_bias_tied", cfg, [[11, 42, 99, 3, 127, 56, 70], [88, 23, 61, 110, 7, 34, 95]]))

    cfg = llama_family_config("MistralForCausalLM", "mistral", head_dim=16, num_key_value_heads=1,
                              rope_theta=10000.0, sliding_window=None)
    cfg.pop("rope_scaling")
    cases.append(("mistral_gqa", cfg, [[1, 66, 12, 90, 37, 101, 4], [1, 125, 48, 9, 73, 26, 58]]))

    cfg = opt_config()
    cases.append(("opt_pre_ln", cfg, [[2, 31, 76, 14, 119, 52, 87], [2, 100, 6, 69, 43, 21, 116]]))

    cfg = opt_config(do_layer_norm_before=False, word_embed_proj_dim=32)
    cases.append(("opt_post_ln_project", cfg, [[2, 59, 8, 97, 124, 35, 18], [2, 81, 47, 3, 66, 112, 29]]))

    return cases


def load_weights(tensors):
    W = {}
    for t in tensors:
        n = int(np.prod(t["shape"]))
        v = gen(t["name"], n, t["scale"], t["offset"])
        assert v.dtype == np.float32 and v.shape == (n,)
        W[t["name"]] = v.reshape(t["shape"]).astype(np.float64)
    return W


# --------------------------------------------------------------------------------------------
# Building blocks (float64)
# --------------------------------------------------------------------------------------------

def linear(x, w, b=None):
    # PyTorch nn.Linear: y = x @ W^T + b, W is [out, in].
    y = x @ w.T
    if b is not None:
        y = y + b
    return y


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def layer_norm(x, w, b, eps):
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)  # biased variance, like torch
    return (x - mu) / np.sqrt(var + eps) * w + b


def silu(x):
    return x / (1.0 + np.exp(-x))


def softmax(x):
    m = np.max(x, axis=-1, keepdims=True)
    e = np.exp(x - m)
    return e / np.sum(e, axis=-1, keepdims=True)


def causal_attention(q, k, v, scale, loop=False):
    """q: [B, nH, T, hd]; k, v: [B, nH, T, hd] (kv heads already repeated). Returns [B, nH, T, hd].

    loop=True is a deliberately naive scalar-loop version used only as a self-check."""
    B, nH, Tn, hd = q.shape
    if not loop:
        s = np.einsum("bhtd,bhsd->bhts", q, k) * scale
        mask = np.triu(np.ones((Tn, Tn), dtype=bool), k=1)  # s > t is masked
        s = np.where(mask, -np.inf, s)
        return np.einsum("bhts,bhsd->bhtd", softmax(s), v)
    out = np.zeros_like(q)
    for b in range(B):
        for h in range(nH):
            for t in range(Tn):
                scores = [sum(q[b, h, t, d] * k[b, h, s, d] for d in range(hd)) * scale for s in range(t + 1)]
                m = max(scores)
                ex = [math.exp(x - m) for x in scores]
                z = sum(ex)
                for d in range(hd):
                    out[b, h, t, d] = sum(ex[s] / z * v[b, h, s, d] for s in range(t + 1))
    return out


# --------------------------------------------------------------------------------------------
# RoPE
# --------------------------------------------------------------------------------------------

def default_inv_freq(theta, dim):
    # inv_freq[i] = theta^(-2i/dim), i = 0..dim/2-1
    return 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)


def llama3_bands(inv_freq, rs):
    """Per-frequency band name under llama3 scaling: 'high' (kept), 'medium' (smoothed), 'low' (/factor)."""
    old = rs["original_max_position_embeddings"]
    low_wl = old / rs["low_freq_factor"]
    high_wl = old / rs["high_freq_factor"]
    out = []
    for f in inv_freq:
        wl = 2.0 * math.pi / f
        if wl < high_wl:
            out.append("high")
        elif wl > low_wl:
            out.append("low")
        else:
            out.append("medium")
    return out


def llama3_inv_freq(inv_freq, rs):
    factor = rs["factor"]
    lo, hi = rs["low_freq_factor"], rs["high_freq_factor"]
    old = rs["original_max_position_embeddings"]
    res = np.empty_like(inv_freq)
    for i, (f, band) in enumerate(zip(inv_freq, llama3_bands(inv_freq, rs))):
        wl = 2.0 * math.pi / f
        if band == "high":
            res[i] = f
        elif band == "low":
            res[i] = f / factor
        else:
            smooth = (old / wl - lo) / (hi - lo)
            res[i] = (1.0 - smooth) * f / factor + smooth * f
    return res


def rope_inv_freq(cfg, head_dim):
    inv = default_inv_freq(cfg["rope_theta"], head_dim)
    rs = cfg.get("rope_scaling")
    if rs is None:
        return inv, 1.0
    rtype = rs.get("rope_type", rs.get("type"))
    if rtype == "default":
        return inv, 1.0
    if rtype == "llama3":
        return llama3_inv_freq(inv, rs), 1.0  # attention_scaling is 1 for llama3
    raise NotImplementedError("rope_type " + str(rtype))


def apply_rope_interleaved(x, positions, inv_freq):
    """Adjacent-pair rotation (dims 2i, 2i+1). NOT the HF convention; only for the sensitivity check."""
    ang = np.outer(np.asarray(positions, dtype=np.float64), inv_freq)
    c, s = np.cos(ang), np.sin(ang)
    y = x.copy()
    y[..., 0::2] = x[..., 0::2] * c - x[..., 1::2] * s
    y[..., 1::2] = x[..., 1::2] * c + x[..., 0::2] * s
    return y


def rotate_half(x):
    h = x.shape[-1] // 2
    return np.concatenate([-x[..., h:], x[..., :h]], axis=-1)


def apply_rope(x, positions, inv_freq, attn_scaling=1.0):
    """x: [..., T, hd]. Rotate-half convention: dims i and i+hd/2 form pair i with angle pos*inv_freq[i]."""
    ang = np.outer(np.asarray(positions, dtype=np.float64), inv_freq)  # [T, hd/2]
    emb = np.concatenate([ang, ang], axis=-1)  # [T, hd]
    cos = np.cos(emb) * attn_scaling
    sin = np.sin(emb) * attn_scaling
    return x * cos + rotate_half(x) * sin


# --------------------------------------------------------------------------------------------
# Forward passes
# --------------------------------------------------------------------------------------------

def forward_llama_family(cfg, W, ids, loop_attention=False, variant=()):
    ids = np.asarray(ids)
    B, Tn = ids.shape
    H = cfg["hidden_size"]
    nH = cfg["num_attention_heads"]
    nKV = cfg.get("num_key_value_heads") or nH
    hd = cfg.get("head_dim") or H // nH
    eps = cfg["rms_norm_eps"]
    groups = nH // nKV
    inv_freq, attn_scaling = rope_inv_freq(cfg, hd)
    if "no_rope_scaling" in variant:
        inv_freq = default_inv_freq(cfg["rope_theta"], hd)
    pos = np.arange(Tn)

    def get(name):
        return W.get(name)

    h = W["model.embed_tokens.weight"][ids]  # [B, T, H]
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        x = rms_norm(h, W[p + "input_layernorm.weight"], eps)
        q = linear(x, W[p + "self_attn.q_proj.weight"], get(p + "self_attn.q_proj.bias"))
        k = linear(x, W[p + "self_attn.k_proj.weight"], get(p + "self_attn.k_proj.bias"))
        v = linear(x, W[p + "self_attn.v_proj.weight"], get(p + "self_attn.v_proj.bias"))
        q = q.reshape(B, Tn, nH, hd).transpose(0, 2, 1, 3)
        k = k.reshape(B, Tn, nKV, hd).transpose(0, 2, 1, 3)
        v = v.reshape(B, Tn, nKV, hd).transpose(0, 2, 1, 3)
        if "rope_interleaved" in variant:  # GPT-J/Meta-style adjacent pairs (wrong for HF layout)
            q = apply_rope_interleaved(q, pos, inv_freq)
            k = apply_rope_interleaved(k, pos, inv_freq)
        else:
            q = apply_rope(q, pos, inv_freq, attn_scaling)
            k = apply_rope(k, pos, inv_freq, attn_scaling)
        # repeat_kv: query head j uses kv head j // groups
        if "kv_tile" in variant:  # wrong mapping j % nKV
            k = np.tile(k, (1, groups, 1, 1))
            v = np.tile(v, (1, groups, 1, 1))
        else:
            k = np.repeat(k, groups, axis=1)
            v = np.repeat(v, groups, axis=1)
        a = causal_attention(q, k, v, 1.0 / math.sqrt(hd), loop=loop_attention)
        a = a.transpose(0, 2, 1, 3).reshape(B, Tn, nH * hd)
        h = h + linear(a, W[p + "self_attn.o_proj.weight"], get(p + "self_attn.o_proj.bias"))
        x = rms_norm(h, W[p + "post_attention_layernorm.weight"], eps)
        m = silu(linear(x, W[p + "mlp.gate_proj.weight"])) * linear(x, W[p + "mlp.up_proj.weight"])
        h = h + linear(m, W[p + "mlp.down_proj.weight"])
    h = rms_norm(h, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight")
    if head is None:
        assert cfg["tie_word_embeddings"], "no lm_head.weight and embeddings not tied"
        head = W["model.embed_tokens.weight"]
    return linear(h, head)


def forward_opt(cfg, W, ids, loop_attention=False, variant=()):
    ids = np.asarray(ids)
    B, Tn = ids.shape
    H = cfg["hidden_size"]
    nH = cfg["num_attention_heads"]
    hd = H // nH
    eps = 1e-5  # torch.nn.LayerNorm default; OPT does not configure it
    pre = cfg["do_layer_norm_before"]
    if "flip_ln_order" in variant:
        pre = not pre
    d = "model.decoder."
    act = {"relu": lambda x: np.maximum(x, 0.0)}[cfg["activation_function"]]

    x = W[d + "embed_tokens.weight"][ids]  # [B, T, word_embed_proj_dim]
    if d + "project_in.weight" in W:
        x = linear(x, W[d + "project_in.weight"])
    # all-ones attention mask -> position ids 0..T-1, embedding row = position + 2
    off = 0 if "pos_offset_0" in variant else 2
    h = x + W[d + "embed_positions.weight"][np.arange(Tn) + off]
    for i in range(cfg["num_hidden_layers"]):
        p = d + "layers.%d." % i
        ln1 = lambda z: layer_norm(z, W[p + "self_attn_layer_norm.weight"], W[p + "self_attn_layer_norm.bias"], eps)
        ln2 = lambda z: layer_norm(z, W[p + "final_layer_norm.weight"], W[p + "final_layer_norm.bias"], eps)
        res = h
        x = ln1(h) if pre else h
        if "q_bias_unscaled" in variant:  # wrong: bias not scaled
            q = linear(x, W[p + "self_attn.q_proj.weight"]) * hd ** -0.5 + W[p + "self_attn.q_proj.bias"]
        else:  # HF: q_proj(x) * head_dim^-0.5, i.e. the bias is scaled too
            q = linear(x, W[p + "self_attn.q_proj.weight"], W[p + "self_attn.q_proj.bias"]) * hd ** -0.5
        k = linear(x, W[p + "self_attn.k_proj.weight"], W[p + "self_attn.k_proj.bias"])
        v = linear(x, W[p + "self_attn.v_proj.weight"], W[p + "self_attn.v_proj.bias"])
        q, k, v = (z.reshape(B, Tn, nH, hd).transpose(0, 2, 1, 3) for z in (q, k, v))
        a = causal_attention(q, k, v, 1.0, loop=loop_attention)
        a = a.transpose(0, 2, 1, 3).reshape(B, Tn, H)
        h = res + linear(a, W[p + "self_attn.out_proj.weight"], W[p + "self_attn.out_proj.bias"])
        if not pre:
            h = ln1(h)
        res = h
        x = ln2(h) if pre else h
        x = linear(act(linear(x, W[p + "fc1.weight"], W[p + "fc1.bias"])), W[p + "fc2.weight"], W[p + "fc2.bias"])
        h = res + x
        if not pre:
            h = ln2(h)
    if d + "final_layer_norm.weight" in W:
        h = layer_norm(h, W[d + "final_layer_norm.weight"], W[d + "final_layer_norm.bias"], eps)
    if d + "project_out.weight" in W:
        h = linear(h, W[d + "project_out.weight"])
    return linear(h, W[d + "embed_tokens.weight"])  # lm_head tied to embed_tokens


def forward(cfg, W, ids, loop_attention=False, variant=()):
    """variant: names of deliberate deviations from HF semantics, used only by the sensitivity
    self-check to show that the golden logits tell those mistakes apart. Empty for the goldens."""
    if cfg["model_type"] in ("llama", "mistral", "qwen2"):
        return forward_llama_family(cfg, W, ids, loop_attention, variant)
    if cfg["model_type"] == "opt":
        return forward_opt(cfg, W, ids, loop_attention, variant)
    raise NotImplementedError(cfg["model_type"])


# --------------------------------------------------------------------------------------------
# Self-checks
# --------------------------------------------------------------------------------------------

def check_structure(name, cfg, tensors):
    names = [t["name"] for t in tensors]
    ok = len(names) == len(set(names))
    if cfg["model_type"] == "opt":
        has_final = "model.decoder.final_layer_norm.weight" in names
        ok &= has_final == cfg["do_layer_norm_before"]
        ok &= ("model.decoder.project_in.weight" in names) == (cfg["word_embed_proj_dim"] != cfg["hidden_size"])
        ok &= "lm_head.weight" not in names
    else:
        ok &= ("lm_head.weight" in names) == (not cfg["tie_word_embeddings"])
        ok &= ("model.layers.0.self_attn.q_proj.bias" in names) == (cfg["model_type"] == "qwen2")
    check("%s: tensor list matches the architecture (%d tensors)" % (name, len(names)), ok)


def check_causality(name, cfg, W, ids, logits):
    ok = True
    ids = np.asarray(ids)
    V = cfg["vocab_size"]
    for t in range(ids.shape[1] - 1):
        alt = ids.copy()
        alt[:, t + 1:] = (alt[:, t + 1:] * 7 + 13) % V  # change every later token
        assert np.all(alt[:, t + 1:] != ids[:, t + 1:])
        l2 = forward(cfg, W, alt)
        ok &= np.array_equal(l2[:, :t + 1], logits[:, :t + 1])
        ok &= not np.allclose(l2[:, t + 1:], logits[:, t + 1:])  # later positions do change
    check("%s: (a) causality (logits[:, :t+1] unchanged when tokens > t change, for every t)" % name, ok)


def check_prefix(name, cfg, W, ids, logits):
    ids = np.asarray(ids)
    worst = 0.0
    for t in range(ids.shape[1]):
        lp = forward(cfg, W, ids[:, :t + 1])
        worst = max(worst, float(np.max(np.abs(lp[:, t] - logits[:, t]))))
    check("%s: (c) prefix recomputation: position t from tokens 0..t only == full pass" % name,
          worst < 1e-12, "max abs diff %.3g" % worst)


def check_loop_attention(name, cfg, W, ids, logits):
    l2 = forward(cfg, W, ids, loop_attention=True)
    diff = float(np.max(np.abs(l2 - logits)))
    check("%s: (d) scalar-loop attention gives the same logits" % name, diff < 1e-10, "max abs diff %.3g" % diff)


def check_llama3_rope(cfg):
    rs = cfg["rope_scaling"]
    hd = cfg["head_dim"]
    base = default_inv_freq(cfg["rope_theta"], hd)
    scaled, _ = rope_inv_freq(cfg, hd)
    bands = llama3_bands(base, rs)
    wl = [2 * math.pi / f for f in base]
    print("      llama3 bands (pair: wavelength -> band, inv_freq ratio scaled/base):")
    for i in range(hd // 2):
        print("        pair %d: %9.2f -> %-6s %.6f" % (i, wl[i], bands[i], scaled[i] / base[i]))
    check("llama3 rope: low, medium and high bands all occur for head_dim %d" % hd,
          set(bands) == {"low", "medium", "high"}, ",".join(bands))
    # Independent hand computation: scalar formulas per band.
    factor, lo, hi, old = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"], rs["original_max_position_embeddings"]
    hand_ok = True
    for i in range(hd // 2):
        f = cfg["rope_theta"] ** (-(2.0 * i) / hd)
        w = 2 * math.pi / f
        if w < old / hi:
            exp = f
        elif w > old / lo:
            exp = f / factor
        else:
            s = (old / w - lo) / (hi - lo)
            exp = (1 - s) * f / factor + s * f
            hand_ok &= f / factor < exp < f  # smoothed strictly between the two
        hand_ok &= abs(exp - scaled[i]) <= 1e-15 * abs(exp)
    check("llama3 rope: scaled inv_freq equals the scalar hand computation per band", hand_ok)
    # Apply RoPE with and without scaling to a random vector: high-frequency pair components
    # (dims i and i+hd/2 for high pairs) must be identical, the others must differ at pos > 0.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((7, hd))
    pos = np.arange(7)
    y_s = apply_rope(x, pos, scaled)
    y_b = apply_rope(x, pos, base)
    hi_dims = [i for i in range(hd // 2) if bands[i] == "high"]
    hi_dims = hi_dims + [i + hd // 2 for i in hi_dims]
    other = [d for d in range(hd) if d not in hi_dims]
    ok = np.array_equal(y_s[:, hi_dims], y_b[:, hi_dims]) and np.all(np.abs(y_s[1:, other] - y_b[1:, other]) > 0)
    # and hand-rotate pair 0 at position 3 with angle 3*theta^0 = 3 rad
    c, s = math.cos(3.0), math.sin(3.0)
    ok &= abs(y_s[3, 0] - (x[3, 0] * c - x[3, hd // 2] * s)) < 1e-14
    ok &= abs(y_s[3, hd // 2] - (x[3, hd // 2] * c + x[3, 0] * s)) < 1e-14
    check("llama3 rope: (b) high-frequency components unchanged by the scaling (dims %s), others changed" % hi_dims, ok)


def check_not_constant(name, logits):
    sd_vocab = float(np.mean(np.std(logits, axis=-1)))
    sd_pos = float(np.mean(np.std(logits, axis=1)))
    ok = sd_vocab > 0.5 and sd_pos > 0.1 and np.all(np.isfinite(logits))
    check("%s: logits well spread (mean std over vocab %.3f, over positions %.3f, range [%.2f, %.2f])"
          % (name, sd_vocab, sd_pos, float(logits.min()), float(logits.max())), ok)


def check_argmax_robust(name, ids, l32):
    srt = np.sort(l32.astype(np.float64), axis=-1)
    margin_last = float(np.min(srt[:, -1, -1] - srt[:, -1, -2]))
    margin_all = float(np.min(srt[..., -1] - srt[..., -2]))
    echo = float(np.mean(np.argmax(l32, axis=-1) == np.asarray(ids)))
    check("%s: argmax not a near-tie (top1-top2 margin: last token %.4f, any position %.4f) and not "
          "an echo of the input (argmax == input id at %.0f%% of positions)" % (name, margin_last, margin_all, 100 * echo),
          margin_last > 1e-2 and echo < 0.3)


SENSITIVITY = {
    "llama": ["rope_interleaved", "no_rope_scaling", "kv_tile"],
    "qwen2": ["rope_interleaved", "kv_tile"],
    "mistral": ["rope_interleaved"],
    "opt": ["pos_offset_0", "flip_ln_order", "q_bias_unscaled"],
}


def check_sensitivity(name, cfg, W, ids, logits):
    """The goldens must tell common implementation mistakes apart (max |diff| well above float32 noise)."""
    for var in SENSITIVITY[cfg["model_type"]]:
        diff = float(np.max(np.abs(forward(cfg, W, ids, variant=(var,)) - logits)))
        check("%s: (e) sensitivity: mistake '%s' changes the logits (max abs diff %.4f)" % (name, var, diff), diff > 1e-2)


def check_generator():
    # Golden values from tests/Qllm.Tests/Support/DeterministicWeightsTests.cs
    exp = [-0.0051483819261193275, -0.005935702007263899, 0.016124103218317032, -0.01959466189146042]
    got = [float(v) for v in gen("model.embed_tokens.weight", 4, 0.02)]
    check("generator matches the C# golden values", got == exp)


# --------------------------------------------------------------------------------------------

def main():
    check_generator()
    out_cases = []
    for name, cfg, ids in make_cases():
        print("== " + name)
        if cfg["model_type"] == "opt":
            tensors = opt_tensors(cfg)
        else:
            tensors = llama_family_tensors(cfg)
        for r in ids:
            assert len(r) == 7 and all(0 <= x < cfg["vocab_size"] for x in r)
        check_structure(name, cfg, tensors)
        W = load_weights(tensors)
        logits = forward(cfg, W, ids)
        assert logits.shape == (2, 7, cfg["vocab_size"])
        if cfg.get("rope_scaling"):
            check_llama3_rope(cfg)
        check_causality(name, cfg, W, ids, logits)
        check_prefix(name, cfg, W, ids, logits)
        check_loop_attention(name, cfg, W, ids, logits)
        check_sensitivity(name, cfg, W, ids, logits)
        check_not_constant(name, logits)
        l32 = logits.astype(np.float32)
        check_argmax_robust(name, ids, l32)
        argmax = [[int(a) for a in np.argmax(l32[b, -1:], axis=-1)][0] for b in range(2)]
        print("      last_token_argmax", argmax, " argmax per position", np.argmax(l32, axis=-1).tolist())
        out_cases.append({
            "name": name,
            "config": cfg,
            "tensors": tensors,
            "input_ids": ids,
            "last_token_argmax": argmax,
            "logits": [[[float(v) for v in l32[b, t]] for t in range(7)] for b in range(2)],
        })
    doc = {
        "source": REL_SOURCE,
        "generator": REL_GEN,
        "notes": [
            "Tensor values: gen(name, prod(shape), scale, offset) from the generator, float32, reshaped "
            "row-major to shape (PyTorch layout: Linear weight is [out_features, in_features]).",
            "Logits: float64 forward pass over the float32 weights, rounded once to float32; shape "
            "[batch=2][T=7][vocab]. Full-length sequences, no padding, positions 0..6 "
            "(OPT: embed_positions row = position + 2).",
            "Tied heads: no lm_head.weight is listed when the head is tied (qwen2 case, OPT cases); the "
            "head is then the token embedding matrix.",
            "Epsilons: RMSNorm uses config rms_norm_eps; OPT LayerNorm eps is 1e-5 (torch default, not in config).",
        ],
        "cases": out_cases,
    }
    with open(OUT_PATH, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print("wrote %s (%d bytes)" % (OUT_PATH, os.path.getsize(OUT_PATH)))
    n_fail = sum(1 for _, ok in RESULTS if not ok)
    print("SUMMARY: %d checks, %d failed -> %s" % (len(RESULTS), n_fail, "PASS" if n_fail == 0 else "FAIL"))
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
