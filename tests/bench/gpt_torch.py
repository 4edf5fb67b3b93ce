#!/usr/bin/python3
"""The PyTorch peer of bench_gpt: GPT-2 written as HuggingFace's eager
modelling code writes it (Conv1D layers, explicit attention with a causal
mask and softmax, tanh GELU, tied head), trained with torch.optim.AdamW and
gradient clipping, at the same config, batch and thread count as bench_gpt.
Optional: needs Debian's python3-torch; compare_gpt.sh runs it beside zoo.

    gpt_torch.py [--gpt2] [--threads N] [--steps N]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn


class Conv1D(nn.Module):  # y = x W + b, W stored [in, out] as GPT-2 does
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight).view(*x.shape[:-1], -1)


class Block(nn.Module):
    def __init__(self, C, H, block):
        super().__init__()
        self.H = H
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.attn_proj = Conv1D(C, 3 * C), Conv1D(C, C)
        self.c_fc, self.mlp_proj = Conv1D(C, 4 * C), Conv1D(4 * C, C)
        self.register_buffer("mask", torch.tril(torch.ones(block, block, dtype=torch.bool)))

    def attn(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(C // self.H)
        w = w.masked_fill(~self.mask[:T, :T], torch.finfo(w.dtype).min)
        w = torch.softmax(w, dim=-1)
        return self.attn_proj(torch.matmul(w, v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        h = self.c_fc(self.ln_2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        return x + self.mlp_proj(h)


class GPT(nn.Module):
    def __init__(self, L, H, C, V, block):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(block, C)
        self.h = nn.ModuleList(Block(C, H, block) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.t()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpt2", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    L, H, C, V, block, B, T = (12, 12, 768, 50257, 1024, 4, 64) if a.gpt2 else (4, 4, 128, 65, 64, 12, 64)
    model = GPT(L, H, C, V, block)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1)
    ids = torch.randint(0, V, (B, T))
    targets = torch.cat([ids[:, 1:], torch.full((B, 1), -100)], dim=1)
    train, fwd = [], []
    for s in range(-1, a.steps):
        t0 = time.perf_counter()
        logits = model(ids)
        loss = nn.functional.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t1 = time.perf_counter()
        with torch.no_grad():
            model(ids)
        t2 = time.perf_counter()
        if s >= 0:
            train.append(t1 - t0)
            fwd.append(t2 - t1)
    tr, fw = statistics.median(train), statistics.median(fwd)
    n = sum(p.numel() for p in model.parameters())
    print("pytorch gpt benchmark: %d threads; %d layers, %d heads, width %d, vocabulary %d; %d parameters"
          % (a.threads, L, H, C, V, n))
    print("training step  batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * tr, B * T / tr))
    print("forward        batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * fw, B * T / fw))


if __name__ == "__main__":
    main()
