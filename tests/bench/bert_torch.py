#!/usr/bin/python3
"""The PyTorch peer of bench_bert: BERT written as HuggingFace's eager
modelling code writes it (nn.Linear query/key/value/output, explicit
attention with softmax, exact erf GELU, post-LayerNorm, pooler, MLM head tied
to the word embeddings), in the style of tests/reference/bert_reference.py,
at the same shapes, batch and thread count as bench_bert:

- forward: BERT-base (12 layers, 768, 12 heads, 3072, vocabulary 30522) at
  batch 8 x 128 under torch.no_grad() in eval mode: hidden states, pooler and
  the MLM logits at every position, as the bert plugin's forward computes.
- train: a small BERT (4 layers, 256, 4 heads, 1024) at batch 8 x 128 with
  15% of the positions masked; as the bert plugin, the MLM head runs on the
  masked positions only (HuggingFace's BertForMaskedLM runs it everywhere);
  hidden dropout 0.1 (none on the attention probabilities, as the plugin),
  cross entropy, clipping to 1.0, torch.optim.AdamW (weight decay 0.01, none
  on biases and LayerNorm weights).

- int8 (--int8, forward only; compare_int8.sh runs it beside bench_bert
  --int8): the BERT-base forward above timed in fp32 and after PyTorch's
  dynamic int8 quantization (torch.ao.quantization.quantize_dynamic, engine
  onednn), the two alternating step by step. The MLM decoder, a product
  with the word embeddings' transpose, becomes an nn.Linear sharing their
  weight so that it is quantized too, as zoo's is; then every nn.Linear is:
  6 a layer, the pooler, the MLM transform, the decoder and the (unused) NSP
  head, 76 in all. Weights int8 with one scale per output channel as zoo's
  (--int8-weights per-tensor: one a matrix, quantize_dynamic's default for
  {nn.Linear}); activations quantized to uint8 on the fly, one scale for each
  product's whole input (zoo's: one a token); int32 accumulation, fp32 out.
  Embeddings, layer norms, attention's products and softmax stay fp32. It
  prints on stderr the count of quantized modules (none is an error) and
  the int8 MLM logits against fp32's (max abs difference, cosine, argmax
  agreement).

Optional: needs Debian's python3-torch; compare_bert.sh runs it beside zoo.

    bert_torch.py [--threads N] [--steps N] [--part forward|train|all]
                  [--int8 [--int8-weights per-channel|per-tensor]]
"""
import argparse
import math
import statistics
import time

import torch
import torch.nn as nn

import torch_int8
import torch.nn.functional as F


class Layer(nn.Module):
    def __init__(self, C, H, I, p):
        super().__init__()
        self.H = H
        self.query, self.key, self.value = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.attn_out, self.attn_ln = nn.Linear(C, C), nn.LayerNorm(C, eps=1e-12)
        self.inter, self.out, self.out_ln = nn.Linear(C, I), nn.Linear(I, C), nn.LayerNorm(C, eps=1e-12)
        self.drop = nn.Dropout(p)

    def forward(self, x):
        B, T, C = x.shape

        def heads(t):
            return t.view(B, T, self.H, C // self.H).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        s = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(C // self.H), dim=-1)
        a = torch.matmul(s, v).transpose(1, 2).reshape(B, T, C)
        x = self.attn_ln(x + self.drop(self.attn_out(a)))
        h = self.out(F.gelu(self.inter(x)))
        return self.out_ln(x + self.drop(h))


class Bert(nn.Module):
    def __init__(self, L, H, C, I, V, P, p):
        super().__init__()
        self.word, self.pos, self.token_type = nn.Embedding(V, C), nn.Embedding(P, C), nn.Embedding(2, C)
        self.emb_ln, self.drop = nn.LayerNorm(C, eps=1e-12), nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(C, H, I, p) for _ in range(L))
        self.pool = nn.Linear(C, C)
        self.tr, self.tr_ln = nn.Linear(C, C), nn.LayerNorm(C, eps=1e-12)
        self.mlm_bias = nn.Parameter(torch.zeros(V))
        self.nsp = nn.Linear(C, 2)  # in the plugin too, unused here (nsp off)
        self.decoder = None  # an nn.Linear tied to the word embeddings for --int8
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def encode(self, ids):
        T = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(T))[None] + self.token_type(torch.zeros_like(ids))
        x = self.drop(self.emb_ln(x))
        for layer in self.layers:
            x = layer(x)
        return x

    def mlm(self, h):  # decoder tied to the word embeddings
        h = self.tr_ln(F.gelu(self.tr(h)))
        return (self.decoder(h) if self.decoder is not None else h @ self.word.weight.t()) + self.mlm_bias

    def forward(self, ids):
        h = self.encode(ids)
        return self.mlm(h), torch.tanh(self.pool(h[:, 0]))

    def loss(self, ids, at, want):
        h = self.encode(ids).reshape(-1, self.word.weight.shape[1])[at]
        return F.cross_entropy(self.mlm(h), want)


def describe(name, L, H, C, I, V, model):
    n = sum(p.numel() for p in model.parameters())
    print("%s  %d layers, %d heads, width %d, intermediate %d, vocabulary %d; %d parameters"
          % (name + "\n" if name else "", L, H, C, I, V, n))


def matmul_gflops(rows, out, inp, reps=20):
    x, w = torch.rand(rows, inp) * 2 - 1, torch.rand(out, inp) * 2 - 1
    t = []
    for r in range(-2, reps):
        t0 = time.perf_counter()
        torch.matmul(x, w.t())
        if r >= 0:
            t.append(time.perf_counter() - t0)
    return 2.0 * rows * out * inp / statistics.median(t) * 1e-9


def bench_forward(steps, sgemm):
    L, H, C, I, V, P, B, T = 12, 12, 768, 3072, 30522, 512, 8, 128
    model = Bert(L, H, C, I, V, P, 0.1).eval()
    describe("forward: BERT-base", L, H, C, I, V, model)
    ids = torch.randint(0, V, (B, T))
    fwd = []
    with torch.no_grad():
        for s in range(-1, steps):
            t0 = time.perf_counter()
            model(ids)
            if s >= 0:
                fwd.append(time.perf_counter() - t0)
    fw = statistics.median(fwd)
    N = B * T
    enc = L * (8.0 * N * C * C + 4.0 * N * C * I + 4.0 * B * T * T * C)
    heads = 2.0 * B * C * C + 2.0 * N * C * C + 2.0 * N * C * V
    print("forward        batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * fw, N / fw))
    print("forward flops  %.1f GFLOP a batch (encoder %.1f, pooler + MLM head %.1f): %.1f GFLOP/s, %.0f%% of torch.matmul's"
          % ((enc + heads) * 1e-9, enc * 1e-9, heads * 1e-9, (enc + heads) / fw * 1e-9,
             100.0 * (enc + heads) / fw * 1e-9 / sgemm))


def bench_int8(steps, weights):
    """BERT-base's forward in fp32 and dynamic int8, alternately."""
    L, H, C, I, V, P, B, T = 12, 12, 768, 3072, 30522, 512, 8, 128
    model = Bert(L, H, C, I, V, P, 0.1).eval()
    model.decoder = nn.Linear(C, V, bias=False)
    model.decoder.weight = model.word.weight
    describe("forward: BERT-base, fp32 and dynamic int8", L, H, C, I, V, model)
    qmodel = torch_int8.quantize(model, weights, "bert_torch")
    ids = torch.randint(0, V, (B, T))
    with torch.inference_mode():
        torch_int8.compare("int8 against fp32 (MLM logits)", model(ids)[0], qmodel(ids)[0])
    torch_int8.time_forwards(model, qmodel, ids, steps)


def bench_train(steps):
    L, H, C, I, V, P, B, T = 4, 4, 256, 1024, 30522, 512, 8, 128
    N = B * T
    masked = (N * 15 + 50) // 100
    print("training: small BERT, masked LM, %d of %d positions masked" % (masked, N))
    model = Bert(L, H, C, I, V, P, 0.1).train()
    describe("", L, H, C, I, V, model)
    no_decay = [p for n, p in model.named_parameters() if n.endswith("bias") or "ln" in n]
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "ln" in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01},
                             {"params": no_decay, "weight_decay": 0.0}], lr=1e-4)
    ids = torch.randint(0, V, (B, T))
    at = torch.randperm(N)[:masked].sort().values
    want = torch.randint(0, V, (masked,))
    train = []
    for s in range(-1, steps):
        t0 = time.perf_counter()
        loss = model.loss(ids, at, want)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s >= 0:
            train.append(time.perf_counter() - t0)
    tr = statistics.median(train)
    print("training step  batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * tr, N / tr))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--part", choices=["forward", "train", "all"], default="all")
    ap.add_argument("--int8", action="store_true")
    ap.add_argument("--int8-weights", choices=["per-channel", "per-tensor"], default="per-channel")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    steps = max(a.steps, 1)
    print("pytorch bert benchmark: %d threads, median of %d steps" % (a.threads, steps))
    sgemm = matmul_gflops(1024, 768, 768)
    print("torch.matmul 1024 x 768 x 768: %.1f GFLOP/s" % sgemm)
    print("torch.matmul 1024 x 3072 x 768: %.1f GFLOP/s" % matmul_gflops(1024, 3072, 768, 10))
    if a.int8:
        bench_int8(steps, a.int8_weights)
        return
    if a.part in ("forward", "all"):
        bench_forward(steps, sgemm)
    if a.part in ("train", "all"):
        bench_train(steps)


if __name__ == "__main__":
    main()
