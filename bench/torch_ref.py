#!/usr/bin/python3
"""PyTorch reference for `npm run bench -- --compare-torch` (bench/engine.ts).

The same synthetic Gemma-2-shaped model as bench/model-shape.ts (8 layers, d_model 1024, 8 heads, 4 KV heads,
head_dim 128, d_mlp 4096, vocab 32000, random weights), batch 8 x 64, float32 on CPU, eager attention, the same
FLOP formulas. Measures: the large matmul [512,1024]@[1024,4096] (roofline), forward, forward + backward to
every resid_post (zero probes added there, weights frozen), KV-cache decoding steps. Prints one JSON line.

Run with Debian's interpreter (/usr/bin/python3, package python3-torch) and OPENBLAS_NUM_THREADS=2.
"""
import argparse
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F

L, D, H, KV, HD, DM, V = 8, 1024, 8, 4, 128, 4096, 32000
B, T = 8, 64
SOFTCAP_ATTN, SOFTCAP_FINAL, EPS = 50.0, 30.0, 1e-6


def layer_linear_params():
    return D * HD * (2 * H + 2 * KV) + 3 * D * DM


def attn_flops(t, ctx):
    return 2 * 2 * H * HD * t * ctx


def forward_flops():
    per_tok = 2 * (L * layer_linear_params() + D * V)
    return B * T * per_tok + B * L * attn_flops(T, T)


def backward_flops():
    per_tok = 2 * ((L - 1) * layer_linear_params() + D * V)
    return B * T * per_tok + B * (L - 1) * 2 * attn_flops(T, T)


def decode_step_flops(ctx):
    per_tok = 2 * (L * layer_linear_params() + D * V)
    return B * per_tok + B * L * attn_flops(1, ctx)


def make_weights(gen):
    def r(*shape):
        return torch.randn(*shape, generator=gen) * 0.02

    w = {"embed": r(V, D), "norm": torch.zeros(D), "layers": []}
    for _ in range(L):
        w["layers"].append({
            "q": r(H * HD, D), "k": r(KV * HD, D), "v": r(KV * HD, D), "o": r(D, H * HD),
            "gate": r(DM, D), "up": r(DM, D), "down": r(D, DM),
            "n_in": torch.zeros(D), "n_post_attn": torch.zeros(D),
            "n_pre_ff": torch.zeros(D), "n_post_ff": torch.zeros(D),
        })
    return w


def rms(x, w):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * (1.0 + w)


def rope_tables(positions):
    inv = 1.0 / (10000.0 ** (torch.arange(0, HD, 2, dtype=torch.float32) / HD))
    f = positions[..., None].float() * inv  # [B, t, HD/2]
    emb = torch.cat([f, f], -1)
    return emb.cos()[:, None], emb.sin()[:, None]  # [B, 1, t, HD]


def rope(x, cos, sin):
    x1, x2 = x[..., : HD // 2], x[..., HD // 2:]
    return x * cos + torch.cat([-x2, x1], -1) * sin


def forward(w, ids, offset=0, past=None, probes=None, last_only=False):
    """ids [B, t]; past: list of (k, v) [B, KV, ctx, HD]. Returns logits and the new cache."""
    b, t = ids.shape
    x = F.embedding(ids, w["embed"]) * math.sqrt(D)
    pos = torch.arange(offset, offset + t)[None].expand(b, t)
    cos, sin = rope_tables(pos)
    ctx = offset + t
    q_idx = torch.arange(offset, offset + t)[:, None]
    k_idx = torch.arange(ctx)[None]
    mask = torch.where(k_idx <= q_idx, 0.0, torch.finfo(torch.float32).min)
    new_cache = []
    for l, lw in enumerate(w["layers"]):
        h = rms(x, lw["n_in"])
        q = (h @ lw["q"].T).view(b, t, H, HD).transpose(1, 2)
        k = (h @ lw["k"].T).view(b, t, KV, HD).transpose(1, 2)
        v = (h @ lw["v"].T).view(b, t, KV, HD).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if past is not None:
            k = torch.cat([past[l][0], k], 2)
            v = torch.cat([past[l][1], v], 2)
        new_cache.append((k, v))
        kr = k.repeat_interleave(H // KV, 1)
        vr = v.repeat_interleave(H // KV, 1)
        s = (q @ kr.transpose(-1, -2)) * HD ** -0.5
        s = torch.tanh(s / SOFTCAP_ATTN) * SOFTCAP_ATTN
        p = torch.softmax(s + mask, -1)
        a = (p @ vr).transpose(1, 2).reshape(b, t, H * HD) @ lw["o"].T
        x = x + rms(a, lw["n_post_attn"])
        h = rms(x, lw["n_pre_ff"])
        m = (F.gelu(h @ lw["gate"].T, approximate="tanh") * (h @ lw["up"].T)) @ lw["down"].T
        x = x + rms(m, lw["n_post_ff"])
        if probes is not None:
            x = x + probes[l]
    x = rms(x, w["norm"])
    if last_only:
        x = x[:, -1:]
    logits = x @ w["embed"].T
    return torch.tanh(logits / SOFTCAP_FINAL) * SOFTCAP_FINAL, new_cache


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--steps", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    gen = torch.Generator().manual_seed(0)
    out = {"backend": "torch", "description": f"PyTorch {torch.__version__} CPU, {torch.get_num_threads()} threads"}
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    if os.path.exists(blas):
        out["blas"] = blas
        if "openblas" not in blas and "mkl" not in blas:
            out["warning"] = ("Debian's torch uses the libblas.so.3 alternative, here the reference BLAS (~1 GFLOP/s): "
                              "apt-get install -y libopenblas0-pthread")

    a, bm = torch.randn(512, 1024, generator=gen), torch.randn(1024, 4096, generator=gen)

    def roofline_now(n):
        # Re-measured next to every timed model run (efficiency under the same machine load).
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            (a @ bm).sum().item()
            times.append(time.perf_counter() - t0)
        return 2 * 512 * 1024 * 4096 / min(times) / 1e9

    roofline_now(1)
    rooflines = [roofline_now(args.reps + 1)]

    w = make_weights(gen)
    ids = torch.randint(3, V, (B, T), generator=gen)
    with torch.no_grad():
        fwd, fwd_eff = [], []
        for r in range(args.reps + 1):
            roof = roofline_now(2) if r > 0 else 0
            t0 = time.perf_counter()
            logits, _ = forward(w, ids)
            logits.sum().item()
            if r > 0:
                fwd.append(time.perf_counter() - t0)
                rooflines.append(roof)
                fwd_eff.append(forward_flops() / fwd[-1] / 1e9 / roof)
    f = min(fwd)
    out["forward"] = {"ms": f * 1e3, "gflops": forward_flops() / f / 1e9, "tokens_per_s": B * T / f}

    fb, fb_eff = [], []
    for r in range(args.reps):
        roof = roofline_now(2)
        rooflines.append(roof)
        t0 = time.perf_counter()
        probes = [torch.zeros(B, T, D, requires_grad=True) for _ in range(L)]
        logits, _ = forward(w, ids, probes=probes)
        grads = torch.autograd.grad(logits.mean(), probes)
        sum(g.sum() for g in grads).item()
        fb.append(time.perf_counter() - t0)
        fb_eff.append((forward_flops() + backward_flops()) / fb[-1] / 1e9 / roof)
    g = min(fb)
    out["forward_backward"] = {"ms": g * 1e3, "gflops": (forward_flops() + backward_flops()) / g / 1e9,
                               "tokens_per_s": B * T / g, "ratio_to_forward": g / f}

    with torch.no_grad():
        t0 = time.perf_counter()
        logits, cache = forward(w, ids, last_only=True)
        logits.sum().item()
        prompt = time.perf_counter() - t0
        steps, flops = [], 0
        for k in range(args.steps):
            t1 = time.perf_counter()
            tok = ids[:, k % T: k % T + 1]
            logits, cache = forward(w, tok, offset=T + k, past=cache)
            logits.sum().item()
            if k > 0:
                steps.append(time.perf_counter() - t1)
                flops += decode_step_flops(T + k + 1)
    total = sum(steps)
    med = sorted(steps)[len(steps) // 2]
    out["generate"] = {"prompt_ms": prompt * 1e3, "step_ms": med * 1e3, "gflops": flops / total / 1e9,
                       "tokens_per_s": B * len(steps) / total, "step_over_forward": med / f}
    out["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["roofline"] = {"gflops": max(rooflines), "shape": "512x1024 @ 1024x4096", "all": rooflines}
    out["efficiency"] = {"forward": out["forward"]["gflops"] / max(rooflines),
                         "backward": out["forward_backward"]["gflops"] / max(rooflines)}

    def rnd(o):
        if isinstance(o, dict):
            return {k: rnd(v) for k, v in o.items()}
        if isinstance(o, list):
            return [rnd(v) for v in o]
        if isinstance(o, float):
            return float(f"{o:.4g}")
        return o

    print(json.dumps(rnd(out)))


if __name__ == "__main__":
    main()
