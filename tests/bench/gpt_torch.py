#!/usr/bin/python3
"""The PyTorch peer of bench_gpt: GPT-2 written as HuggingFace's eager
modelling code writes it (Conv1D layers, explicit attention with a causal
mask and softmax, tanh GELU, tied head), trained with torch.optim.AdamW and
gradient clipping, at the same config, batch and thread count as bench_gpt.
Optional: needs Debian's python3-torch; compare_gpt.sh runs it beside zoo.

    gpt_torch.py [--gpt2] [--threads N] [--steps N] [--decode]
                 [--int8 [--int8-weights per-channel|per-tensor]]

--decode: the cost of one token at positions 100 and 900 (batch 1, the mean
of 10 tokens from there) with a HuggingFace-style KV cache (each layer's keys
and values concatenated step by step), as bench_gpt --decode prints it.

--int8: the peer of bench_gpt --forward-only --int8 (compare_int8.sh). No
training: the model in eval mode under torch.inference_mode(), its forward
timed in fp32 and after PyTorch's dynamic int8 quantization
(torch.ao.quantization.quantize_dynamic, engine onednn), the two
alternating step by step. quantize_dynamic only touches nn.Linear, so
first every Conv1D becomes the equivalent nn.Linear (the transposed
weight) and the tied head an nn.Linear sharing the token embedding's
weight; then every linear layer is quantized, 4 a block and the head, 49
for GPT-2: int8 weights, one scale per output channel as zoo's
(--int8-weights per-tensor: one scale a matrix, quantize_dynamic's default
for {nn.Linear}), activations quantized to uint8 on the fly, one scale for
each product's whole input (zoo's: one a token), int32 accumulation, fp32
out. The fp32 figure is of that nn.Linear model (the same products as the
Conv1D one that compare_gpt.sh times). The token and position embeddings,
layer norms, attention's products and softmax stay fp32. Before
timing it checks, on stderr: the Linear model's logits against the Conv1D
model's, the int8 logits against fp32 (max abs difference, cosine, argmax
agreement), and the count of quantized modules (none is an error). With
--decode the cache timing is done for both models too.
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn

import torch_int8
from torch_int8 import compare


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

    def attn(self, x, cache, i):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        if cache is not None:  # [B, H, past + T, C / H]
            if cache[i] is not None:
                k, v = torch.cat((cache[i][0], k), dim=2), torch.cat((cache[i][1], v), dim=2)
            cache[i] = (k, v)
        S = k.shape[2]
        w = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(C // self.H)
        w = w.masked_fill(~self.mask[S - T:S, :S], torch.finfo(w.dtype).min)
        w = torch.softmax(w, dim=-1)
        return self.attn_proj(torch.matmul(w, v).transpose(1, 2).reshape(B, T, C))

    def forward(self, x, cache=None, i=0):
        x = x + self.attn(self.ln_1(x), cache, i)
        h = self.c_fc(self.ln_2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        return x + self.mlp_proj(h)


class GPT(nn.Module):
    def __init__(self, L, H, C, V, block):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(block, C)
        self.h = nn.ModuleList(Block(C, H, block) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        self.head = None  # an nn.Linear tied to wte once as_linear has run

    def forward(self, ids, cache=None):
        """cache: None, or a list of one entry a layer (None before the
        first call), each layer's keys and values so far; ids continue it."""
        past = cache[0][0].shape[2] if cache is not None and cache[0] is not None else 0
        x = self.wte(ids) + self.wpe(torch.arange(past, past + ids.shape[1]))
        for i, b in enumerate(self.h):
            x = b(x, cache, i)
        x = self.ln_f(x)
        return self.head(x) if self.head is not None else x @ self.wte.weight.t()


def as_linear(model):
    """Every Conv1D of model becomes the nn.Linear computing the same thing
    (weight transposed to [out, in]), and the tied head an nn.Linear whose
    weight is the token embedding's, so quantize_dynamic finds them all."""
    for b in model.h:
        for name in ("c_attn", "attn_proj", "c_fc", "mlp_proj"):
            conv = getattr(b, name)
            n_in, n_out = conv.weight.shape
            lin = nn.Linear(n_in, n_out)
            with torch.no_grad():
                lin.weight.copy_(conv.weight.t())
                lin.bias.copy_(conv.bias)
            setattr(b, name, lin)
    V, C = model.wte.weight.shape
    model.head = nn.Linear(C, V, bias=False)
    model.head.weight = model.wte.weight
    return model


def decode_ms(model, V, at, check=None):
    """The mean time of one token at positions at..at+9, batch 1, with
    everything before it in the cache (filled by one forward of at - 1
    tokens and one warm-up token). check: a name to compare the last token's
    logits under, on stderr, with a forward of the whole sequence at once."""
    gen = torch.Generator().manual_seed(at)
    ids = torch.randint(0, V, (1, at + 10), generator=gen)
    cache = [None] * len(model.h)
    model(ids[:, :at - 1], cache)
    model(ids[:, at - 1:at], cache)
    t0 = time.perf_counter()
    for p in range(at, at + 10):
        logits = model(ids[:, p:p + 1], cache)
    dt = (time.perf_counter() - t0) / 10
    if check:
        compare(check, model(ids)[:, -1], logits[:, -1])
    return dt


def print_decode(tag, model, V, block):
    probes = (min(100, block // 2), 900 if 900 < block else block - 10)
    d = [decode_ms(model, V, p, "decode%s: the cache's last token against a whole forward" % tag if p == probes[0]
                   else None) for p in probes]
    print("decode%s with the cache: token %d %.2f ms, token %d %.2f ms (ratio %.2f)"
          % (tag, probes[0], 1e3 * d[0], probes[1], 1e3 * d[1], d[1] / d[0]))


def train(a, model, L, H, C, V, B, T):
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
    print("training step  batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * tr, B * T / tr))
    print("forward        batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * fw, B * T / fw))


def int8(a, model, V, B, T, block):
    model.eval()
    ids = torch.randint(0, V, (B, T))
    with torch.inference_mode():
        want = model(ids)
    as_linear(model)
    with torch.inference_mode():
        compare("Conv1D -> nn.Linear (fp32)", want, model(ids))
    qmodel = torch_int8.quantize(model, a.int8_weights, "gpt_torch")
    with torch.inference_mode():
        compare("int8 against fp32", want, qmodel(ids))
    torch_int8.time_forwards(model, qmodel, ids, a.steps)
    if a.decode:
        with torch.inference_mode():
            print_decode("", model, V, block)
            print_decode(" (int8)", qmodel, V, block)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gpt2", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--decode", action="store_true")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--int8-weights", choices=["per-channel", "per-tensor"], default="per-channel")
    a = ap.parse_args()
    a.steps = max(a.steps, 1)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    L, H, C, V, block, B, T = (12, 12, 768, 50257, 1024, 4, 64) if a.gpt2 else (4, 4, 128, 65, 64, 12, 64)
    model = GPT(L, H, C, V, block)
    n = sum(p.numel() for p in model.parameters())
    print("pytorch gpt benchmark: %d threads; %d layers, %d heads, width %d, vocabulary %d; %d parameters"
          % (a.threads, L, H, C, V, n))
    if a.int8:
        int8(a, model, V, B, T, block)
        return
    train(a, model, L, H, C, V, B, T)
    if a.decode:
        with torch.inference_mode():
            print_decode("", model.eval(), V, block)


if __name__ == "__main__":
    main()
