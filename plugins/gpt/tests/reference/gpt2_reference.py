#!/usr/bin/python3
"""Reference GPT-2 for zoo's fixtures: a plain eager PyTorch implementation written from the
architecture (no `transformers`), a tiny seeded random model, and the expected outputs.

    /usr/bin/python3 plugins/gpt/tests/reference/gpt2_reference.py generate [--out-dir plugins/gpt/tests/fixtures]
        writes plugins/gpt/tests/fixtures/gpt2-tiny/ and plugins/gpt/tests/fixtures/gpt2-tiny-noprefix/ (see the README there)
    /usr/bin/python3 plugins/gpt/tests/reference/gpt2_reference.py verify [--out-dir plugins/gpt/tests/fixtures]
        re-reads the committed files (weights from model.safetensors, not from the RNG), recomputes
        everything and compares with the committed .npy files; exits non-zero on a mismatch
    /usr/bin/python3 plugins/gpt/tests/reference/gpt2_reference.py forward DIR --ids FILE --out LOGITS.npy [--hidden H.npy]
        the reference forward pass of any HF-style GPT-2 directory (config.json + model.safetensors)

Needs Debian's python3-torch and python3-numpy only (hence /usr/bin/python3). This script is a
fixture generator, never a test-time dependency: the tests read the committed files.

Semantics follow HuggingFace GPT2LMHeadModel (eval mode, no dropout):
  x = wte[ids] + wpe[0..T-1]
  for each block: x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))
  hidden = ln_f(x)                      (HF's last_hidden_state)
  logits = hidden @ wte^T               (lm_head tied to wte)
  attn: qkv = ln_1(x) @ c_attn.weight + c_attn.bias  (Conv1D: weight stored [in, out] = [C, 3C]);
        q, k, v = columns [0,C), [C,2C), [2C,3C); head h = columns [h*hd, (h+1)*hd) of each;
        scores = q k^T / sqrt(hd), causal mask, softmax, @ v, heads concatenated, @ c_proj.weight + bias
  mlp:  gelu_new(x @ c_fc.weight + c_fc.bias) @ mlp.c_proj.weight + mlp.c_proj.bias
        gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
  layer norm: biased variance, eps = layer_norm_epsilon inside the square root.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

SEED = 20240611
CONFIG = {
    "model_type": "gpt2",
    "architectures": ["GPT2LMHeadModel"],
    "activation_function": "gelu_new",
    "n_layer": 2,
    "n_head": 2,
    "n_embd": 16,
    "n_positions": 32,
    "n_ctx": 32,
    "n_inner": None,
    "vocab_size": 53,
    "layer_norm_epsilon": 1e-05,
    "bos_token_id": 52,
    "eos_token_id": 52,
    "attn_pdrop": 0.1,
    "embd_pdrop": 0.1,
    "resid_pdrop": 0.1,
    "initializer_range": 0.02,
    "scale_attn_weights": True,
    "scale_attn_by_inverse_layer_idx": False,
    "reorder_and_upcast_attn": False,
    "tie_word_embeddings": True,
    "use_cache": True,
    "torch_dtype": "float32",
}
SEQ_LEN = 12
N_SEQ = 2
# Parameters whose loss gradient is written to gpt2-tiny/grads/ (hub names without the prefix).
GRAD_NAMES = [
    "wte.weight",
    "wpe.weight",
    "h.0.ln_1.weight",
    "h.0.attn.c_attn.weight",
    "h.0.attn.c_attn.bias",
    "h.0.attn.c_proj.weight",
    "h.1.mlp.c_fc.bias",
    "h.1.mlp.c_proj.weight",
    "ln_f.weight",
]


# ---------------------------------------------------------------------------------------------
# safetensors and npy, by hand (no python3-safetensors needed)

DTYPES = {"F32": ("<f4", 4), "F64": ("<f8", 8), "F16": ("<f2", 2), "I64": ("<i8", 8),
          "I32": ("<i4", 4), "U8": ("u1", 1), "BOOL": ("u1", 1)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, np.ndarray float32), written in the given order."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for name, arr in tensors:
        arr = np.asarray(arr, dtype="<f4")        # keeps 0-d (shape []) arrays 0-d
        b = arr.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dt, size = DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"], dtype=np.int64))
        assert e - b == count * size, name
        arr = np.frombuffer(data[base + b:base + e], dtype=dt).reshape(info["shape"])
        out[name] = arr.astype(np.float32) if info["dtype"] in ("F16",) else arr.copy()
    return out


def read_ids(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.replace(",", " ").split()
            if line:
                rows.append([int(t) for t in line])
    assert rows and all(len(r) == len(rows[0]) for r in rows), "ids: equal-length lines required"
    return np.array(rows, dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# the model

def canonical(sd):
    """Hub state dict -> {name without 'transformer.' prefix: tensor}, buffers and lm_head dropped
    (after checking that a present lm_head equals wte: the head is tied)."""
    out = {}
    for k, v in sd.items():
        name = k[len("transformer."):] if k.startswith("transformer.") else k
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias"):
            continue
        if name == "lm_head.weight":
            continue
        out[name] = np.asarray(v, dtype=np.float32)
    if "lm_head.weight" in sd:
        assert np.array_equal(np.asarray(sd["lm_head.weight"], dtype=np.float32), out["wte.weight"]), \
            "lm_head.weight differs from wte.weight; this reference ties them"
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)          # biased, as torch.nn.LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def conv1d(x, w, b):
    return x @ w + b                                      # w stored [in, out]


DEFAULT_VARIANT = {}


def forward(P, cfg, ids, head_weight=None, variant=DEFAULT_VARIANT):
    """P: {canonical name: torch tensor}. ids: LongTensor [B,T]. Returns (logits, hidden).
    head_weight: the lm_head matrix (defaults to P['wte.weight'], i.e. tied).
    variant: deliberate bugs, used only by the sensitivity check."""
    v = variant
    C, H, L = cfg["n_embd"], cfg["n_head"], cfg["n_layer"]
    hd = C // H
    eps = v.get("eps", cfg["layer_norm_epsilon"])
    B, T = ids.shape
    act = gelu_erf if v.get("gelu_erf") else gelu_new
    ln = layer_norm
    if v.get("unbiased_var"):
        def ln(x, w, b, e):
            mu = x.mean(-1, keepdim=True)
            var = ((x - mu) ** 2).sum(-1, keepdim=True) / (x.shape[-1] - 1)
            return (x - mu) / torch.sqrt(var + e) * w + b

    pos = torch.arange(T) + v.get("pos_offset", 0)
    x = P["wte.weight"][ids]
    if not v.get("no_wpe"):
        x = x + P["wpe.weight"][pos][None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = "h.%d." % i

        def W(name):
            w = P[p + name]
            if v.get("transpose_square") and w.dim() == 2 and w.shape[0] == w.shape[1]:
                w = w.t()
            return w

        def attn(a):
            qkv = conv1d(a, W("attn.c_attn.weight"), P[p + "attn.c_attn.bias"])
            q, k, vv = qkv.split(C, dim=-1)
            if v.get("swap_qk"):
                q, k = k, q

            def heads(t):
                if v.get("heads_interleaved"):
                    return t.view(B, T, hd, H).permute(0, 3, 1, 2)
                return t.view(B, T, H, hd).transpose(1, 2)         # [B,H,T,hd]
            q, k, vv = heads(q), heads(k), heads(vv)
            s = q @ k.transpose(-1, -2)
            if not v.get("no_scale"):
                s = s / math.sqrt(hd)
            if not v.get("no_mask"):
                s = s.masked_fill(~causal, float("-inf"))
            s = torch.softmax(s, dim=-1)
            o = (s @ vv).transpose(1, 2).reshape(B, T, C)
            return conv1d(o, W("attn.c_proj.weight"), P[p + "attn.c_proj.bias"])

        def mlp(a):
            hmid = act(conv1d(a, W("mlp.c_fc.weight"), P[p + "mlp.c_fc.bias"]))
            return conv1d(hmid, W("mlp.c_proj.weight"), P[p + "mlp.c_proj.bias"])

        if v.get("post_ln"):
            x = ln(x + attn(x), P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps)
            x = ln(x + mlp(x), P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps)
        else:
            x = x + attn(ln(x, P[p + "ln_1.weight"], P[p + "ln_1.bias"], eps))
            x = x + mlp(ln(x, P[p + "ln_2.weight"], P[p + "ln_2.bias"], eps))
    if v.get("no_ln_f"):
        hidden = x
    else:
        hidden = ln(x, P["ln_f.weight"], P["ln_f.bias"], eps)
    if head_weight is None:
        head_weight = P["wte.weight"]
    logits = hidden @ head_weight.t()
    return logits, hidden


def lm_targets(ids):
    """Next-token targets: targets[b,t] = ids[b,t+1], the last position -100 (ignored)."""
    t = np.full(ids.shape, -100, dtype=np.int64)
    t[:, :-1] = ids[:, 1:]
    return t


def cross_entropy(logits, targets):
    """Mean over the positions whose target is not -100 (as torch/HF)."""
    V = logits.shape[-1]
    lf = logits.reshape(-1, V)
    tf = targets.reshape(-1)
    keep = tf != -100
    logp = torch.log_softmax(lf[keep], dim=-1)
    nll = -logp.gather(1, tf[keep][:, None])[:, 0]
    return nll.mean()


def run_all(P_np, cfg, ids_np, dtype):
    """Forward + loss + gradients at the given dtype. Returns dict of numpy arrays / floats."""
    P = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in P_np.items()}
    ids = torch.tensor(ids_np)
    targets = torch.tensor(lm_targets(ids_np))
    logits, hidden = forward(P, cfg, ids)
    loss = cross_entropy(logits, targets)
    # cross-check our cross-entropy with torch's
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                            ignore_index=-100)
    assert abs(float(ref) - float(loss)) < 1e-5
    loss.backward()
    grads = {k: P[k].grad.detach().numpy().copy() for k in P}

    # the two contributions to the tied wte gradient, separately (for debugging a C implementation)
    Pe = {k: torch.tensor(v, dtype=dtype, requires_grad=(k == "wte.weight")) for k, v in P_np.items()}
    head = torch.tensor(P_np["wte.weight"], dtype=dtype, requires_grad=True)
    lg, _ = forward(Pe, cfg, ids, head_weight=head)
    cross_entropy(lg, targets).backward()
    return {
        "logits": logits.detach().numpy(),
        "hidden": hidden.detach().numpy(),
        "loss": float(loss),
        "grads": grads,
        "wte_grad_embedding_part": Pe["wte.weight"].grad.numpy().copy(),
        "wte_grad_head_part": head.grad.numpy().copy(),
    }


# ---------------------------------------------------------------------------------------------
# the random model

def make_weights(cfg, seed):
    rng = np.random.default_rng(seed)
    C, L, V, NP = cfg["n_embd"], cfg["n_layer"], cfg["vocab_size"], cfg["n_positions"]

    def n(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def lnw(shape):
        return (1.0 + rng.standard_normal(shape) * 0.3).astype(np.float32)

    P = {"wte.weight": n((V, C), 0.5), "wpe.weight": n((NP, C), 0.3)}
    for i in range(L):
        p = "h.%d." % i
        P[p + "ln_1.weight"] = lnw((C,))
        P[p + "ln_1.bias"] = n((C,), 0.2)
        P[p + "attn.c_attn.weight"] = n((C, 3 * C), 0.35)
        P[p + "attn.c_attn.bias"] = n((3 * C,), 0.2)
        P[p + "attn.c_proj.weight"] = n((C, C), 0.3)
        P[p + "attn.c_proj.bias"] = n((C,), 0.2)
        P[p + "ln_2.weight"] = lnw((C,))
        P[p + "ln_2.bias"] = n((C,), 0.2)
        P[p + "mlp.c_fc.weight"] = n((C, 4 * C), 0.4)
        P[p + "mlp.c_fc.bias"] = n((4 * C,), 0.3)
        P[p + "mlp.c_proj.weight"] = n((4 * C, C), 0.2)
        P[p + "mlp.c_proj.bias"] = n((C,), 0.2)
    P["ln_f.weight"] = lnw((C,))
    P["ln_f.bias"] = n((C,), 0.2)
    return P


def make_ids(cfg, seed):
    rng = np.random.default_rng(seed + 1)
    V = cfg["vocab_size"]
    ids = rng.integers(0, V, size=(N_SEQ, SEQ_LEN)).astype(np.int64)
    # make sure both ends of the vocabulary and a repeated token occur
    ids[0, 0] = V - 1
    ids[0, 5] = 0
    ids[1, 3] = 0
    ids[1, 9] = V - 1
    ids[1, 10] = ids[1, 2]
    return ids


def param_order(cfg):
    names = ["wte.weight", "wpe.weight"]
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        names += [p + s for s in ("ln_1.weight", "ln_1.bias", "attn.bias", "attn.masked_bias",
                                  "attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight",
                                  "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
                                  "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")]
    return names + ["ln_f.weight", "ln_f.bias"]


def hub_tensors(P, cfg, prefix, lm_head, buffers):
    NP = cfg["n_positions"]
    mask = np.tril(np.ones((NP, NP), dtype=np.float32)).reshape(1, 1, NP, NP)
    out = []
    for name in param_order(cfg):
        if name.endswith(".attn.bias"):
            if buffers:
                out.append((prefix + name, mask))
        elif name.endswith(".attn.masked_bias"):
            if buffers:
                out.append((prefix + name, np.array(-1e4, dtype=np.float32)))
        else:
            out.append((prefix + name, P[name]))
    if lm_head:
        out.append(("lm_head.weight", P["wte.weight"]))
    return out


# ---------------------------------------------------------------------------------------------
# checks

def sensitivity(P_np, cfg, ids_np, logits32):
    """How far the logits move under plausible implementation bugs and under a loader that drops
    one tensor (sets it to its trivial value). Everything should be far above the 1e-4 tolerance."""
    P = {k: torch.tensor(v) for k, v in P_np.items()}
    ids = torch.tensor(ids_np)
    rows = []
    bugs = [
        ("square Conv1D weights transposed", {"transpose_square": True}),
        ("no causal mask", {"no_mask": True}),
        ("no 1/sqrt(head_dim) scaling", {"no_scale": True}),
        ("q and k swapped", {"swap_qk": True}),
        ("heads interleaved (view T,hd,H)", {"heads_interleaved": True}),
        ("exact erf GELU instead of gelu_new", {"gelu_erf": True}),
        ("post-LN instead of pre-LN", {"post_ln": True}),
        ("no final ln_f", {"no_ln_f": True}),
        ("no position embeddings", {"no_wpe": True}),
        ("positions start at 1", {"pos_offset": 1}),
        ("layer norm with unbiased variance", {"unbiased_var": True}),
        ("layer norm eps 1e-12 instead of 1e-5", {"eps": 1e-12}),
        ("layer norm eps 1e-6 instead of 1e-5", {"eps": 1e-6}),
    ]
    with torch.no_grad():
        for label, var in bugs:
            lg, _ = forward(P, cfg, ids, variant=var)
            rows.append((label, float((lg - torch.tensor(logits32)).abs().max())))
        for name in P_np:
            Q = dict(P)
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name == "ln_f.weight":
                Q[name] = torch.ones_like(P[name])
            else:
                Q[name] = torch.zeros_like(P[name])
            lg, _ = forward(Q, cfg, ids)
            rows.append(("tensor %s trivial (0 or 1)" % name, float((lg - torch.tensor(logits32)).abs().max())))
            # and a relative perturbation of 1e-2 of one element in the middle of the tensor
            Q[name] = P[name].clone()
            flat = Q[name].view(-1)
            C = cfg["n_embd"]
            picks = [("", flat.numel() // 2)]
            if name == "wte.weight":
                picks = [("", int(ids_np[0, 3]) * C + 5)]             # a row that is used as input
            elif name == "wpe.weight":
                picks = [("", 3 * C + 5)]                             # a position < T
            elif name.endswith("attn.c_attn.bias"):
                # q, k and v parts; the k part is provably invisible (adds a constant to each row
                # of the scores, which softmax cancels): its change and gradient are rounding noise
                picks = [(" (q part)", 5), (" (k part, invisible)", C + 5), (" (v part)", 2 * C + 5)]
            for what, j in picks:
                Q[name] = P[name].clone()
                flat = Q[name].view(-1)
                flat[j] = flat[j] + 0.01
                lg, _ = forward(Q, cfg, ids)
                rows.append(("tensor %s one element +0.01%s" % (name, what),
                             float((lg - torch.tensor(logits32)).abs().max())))
    return rows


def compare(label, a, b):
    d = float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
    return label, d


def report_precision(r32, r64):
    rows = [compare("logits", r32["logits"], r64["logits"]),
            compare("hidden", r32["hidden"], r64["hidden"]),
            ("loss", abs(r32["loss"] - r64["loss"]))]
    for k in GRAD_NAMES:
        rows.append(compare("grad " + k, r32["grads"][k], r64["grads"][k]))
    rows.append(compare("grad wte (embedding part)", r32["wte_grad_embedding_part"], r64["wte_grad_embedding_part"]))
    rows.append(compare("grad wte (head part)", r32["wte_grad_head_part"], r64["wte_grad_head_part"]))
    return rows


# ---------------------------------------------------------------------------------------------
# commands

def load_dir(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    sd = read_safetensors(os.path.join(d, "model.safetensors"))
    return cfg, canonical(sd), sd


README = """# gpt2-tiny: reference fixtures for zoo's HuggingFace GPT-2 loading, forward pass and gradients

Generated by `plugins/gpt/tests/reference/gpt2_reference.py` (plain eager PyTorch written from the GPT-2
architecture, no `transformers`; Debian's python3-torch {torch} and python3-numpy {numpy}):

    /usr/bin/python3 plugins/gpt/tests/reference/gpt2_reference.py generate     # rewrites both fixture directories
    /usr/bin/python3 plugins/gpt/tests/reference/gpt2_reference.py verify       # recomputes from the committed files

Tests are to read these files; nothing at test time needs PyTorch. `generate` also prints the
float32-vs-float64 differences and the sensitivity table the tolerance note below summarises.

## The model

`config.json` (GPT2Config field names): n_layer {n_layer}, n_head {n_head}, n_embd {n_embd} (head size {hd}),
n_positions = n_ctx = {n_positions}, vocab_size {vocab_size} (odd on purpose), layer_norm_epsilon 1e-5,
activation_function `gelu_new` (GELU, tanh approximation), n_inner null (= 4 n_embd = {inner}),
lm_head tied to wte. Weights are random, numpy `default_rng({seed})`, deliberately large so every
parameter matters: wte std 0.5, wpe 0.3, c_attn 0.35, attn c_proj 0.3, c_fc 0.4, mlp c_proj 0.2,
biases 0.2-0.3, layer-norm weights 1 + 0.3 N(0,1), layer-norm biases 0.2 N(0,1).

`model.safetensors` uses the hub's GPT2LMHeadModel names: `transformer.wte.weight` [V,C],
`transformer.wpe.weight` [n_positions,C], `transformer.h.{{i}}.ln_1.weight/bias`,
`transformer.h.{{i}}.attn.c_attn.weight` [C,3C] and `.bias` [3C], `transformer.h.{{i}}.attn.c_proj.weight` [C,C],
`transformer.h.{{i}}.ln_2.weight/bias`, `transformer.h.{{i}}.mlp.c_fc.weight` [C,4C], `transformer.h.{{i}}.mlp.c_proj.weight` [4C,C]
(Conv1D: weights stored [in,out], y = x W + b), `transformer.ln_f.weight/bias`, `lm_head.weight` (a copy of wte),
and the non-parameter buffers `transformer.h.{{i}}.attn.bias` (F32 [1,1,{n_positions},{n_positions}], lower-triangular ones)
and `transformer.h.{{i}}.attn.masked_bias` (F32 scalar, shape [], -1e4), which a loader must ignore.
All tensors F32; `__metadata__` is {{"format": "pt"}}.

`../gpt2-tiny-noprefix/` holds the same weights as GPT2Model exports them: no `transformer.` prefix,
no `lm_head.weight`, no buffers (same config.json, which like the hub's `gpt2` repository still says
GPT2LMHeadModel: the head is the tied wte). It must give exactly the same outputs; its
expected outputs are the files here.

## Inputs and expected outputs (all float32, computed in float32)

- `ids.txt`: {nseq} sequences of {seqlen} ids in [0,{vocab_size}), space-separated, one per line (B={nseq}, T={seqlen}).
- `logits.npy` [B,T,V]: the LM head's logits, what
  `zoo forward plugins/gpt/tests/fixtures/gpt2-tiny --ids plugins/gpt/tests/fixtures/gpt2-tiny/ids.txt --out FILE.npy` must write
  (and the same with `gpt2-tiny-noprefix`).
- `hidden.npy` [B,T,C]: the last hidden state as HuggingFace defines it, after the final `ln_f`
  (`--hidden`); logits = hidden @ wte^T.
- `grads/index.json` and `grads/*.npy`: one training-step reference. The loss is the next-token
  cross-entropy with targets[b,t] = ids[b,t+1] and the last position ignored (-100), averaged over
  the B*(T-1) = {ntgt} predicted positions (natural log). `index.json` holds `loss` (the float32 result),
  `loss_float64`, the targets, and for each listed parameter (canonical name without the prefix,
  plus its hub name) the file with d loss / d parameter, in the parameter's stored layout
  (Conv1D gradients [in,out]). The wte gradient is for the tied matrix: the embedding-lookup
  contribution plus the lm_head contribution, which are also given separately
  (`wte.weight.embedding_part.npy`, `wte.weight.head_part.npy`). wpe rows >= T have zero gradient.
  No dropout (all pdrop are ignored: eval-mode semantics for forward and gradient).
  The key part of c_attn.bias (columns [C,2C)) cannot affect the output (it adds a constant to
  each row of the attention scores, which softmax cancels), so its gradient is zero in exact
  arithmetic and rounding noise here (max {kbias:.1e}); compare it with the absolute tolerance only.

Tolerance: zoo must match to 1e-4 absolute. The same computation in float64 differs from these
float32 files by at most {maxdiff:.2e} (logits), {maxgrad:.2e} (any gradient); each plausible bug the
generator tries (transposed square Conv1D, missing mask or scale, erf GELU, post-LN, missing ln_f,
unbiased variance, any one tensor dropped, ...) moves the logits by at least {minbug:.2e}; even
layer-norm eps 1e-12 instead of 1e-5 moves them by {epsbug:.1e}.
"""


def cmd_generate(args):
    cfg = dict(CONFIG)
    P = make_weights(cfg, SEED)
    ids = make_ids(cfg, SEED)
    r32 = run_all(P, cfg, ids, torch.float32)
    r64 = run_all(P, cfg, ids, torch.float64)

    prec = report_precision(r32, r64)
    print("float32 vs float64 (same float32 weights), max |difference|:")
    for k, d in prec:
        print("  %-34s %.3e" % (k, d))
    print("scale: max |logit| %.3f, logit std %.3f, max |hidden| %.3f, loss %.6f (float64 %.9f)" % (
        np.abs(r32["logits"]).max(), r32["logits"].std(), np.abs(r32["hidden"]).max(),
        r32["loss"], r64["loss"]))
    sens = sensitivity(P, cfg, ids, r32["logits"])
    print("sensitivity (max |logit change|):")
    for k, d in sens:
        print("  %-52s %.3e" % (k, d))
    C = cfg["n_embd"]
    kb32 = float(np.abs(r32["grads"]["h.0.attn.c_attn.bias"][C:2 * C]).max())
    kb64 = float(np.abs(r64["grads"]["h.0.attn.c_attn.bias"][C:2 * C]).max())
    print("grad h.0.attn.c_attn.bias, key part (zero in exact arithmetic): float32 %.1e, float64 %.1e"
          % (kb32, kb64))
    max_prec = max(d for k, d in prec)
    assert max_prec < 1e-5, "float32 is not close enough to float64 for a 1e-4 tolerance"
    assert min(d for k, d in sens if "eps" not in k and "+0.01" not in k) > 1e-3, \
        "some bug would go unnoticed at 1e-4"

    top = args.out_dir
    d1 = os.path.join(top, "gpt2-tiny")
    d2 = os.path.join(top, "gpt2-tiny-noprefix")
    gd = os.path.join(d1, "grads")
    for d in (d1, d2, gd):
        os.makedirs(d, exist_ok=True)
    for d, arch in ((d1, "GPT2LMHeadModel"), (d2, "GPT2LMHeadModel")):
        c = dict(cfg)
        c["architectures"] = [arch]
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
            f.write("\n")
    write_safetensors(os.path.join(d1, "model.safetensors"),
                      hub_tensors(P, cfg, "transformer.", lm_head=True, buffers=True), {"format": "pt"})
    write_safetensors(os.path.join(d2, "model.safetensors"),
                      hub_tensors(P, cfg, "", lm_head=False, buffers=False), {"format": "pt"})
    with open(os.path.join(d1, "ids.txt"), "w") as f:
        for row in ids:
            f.write(" ".join(str(int(t)) for t in row) + "\n")
    np.save(os.path.join(d1, "logits.npy"), r32["logits"].astype(np.float32))
    np.save(os.path.join(d1, "hidden.npy"), r32["hidden"].astype(np.float32))
    index = {
        "loss": r32["loss"],
        "loss_float64": r64["loss"],
        "reduction": "mean over positions whose target is not -100",
        "targets": lm_targets(ids).tolist(),
        "grads": {},
    }
    for name in GRAD_NAMES:
        fn = name + ".npy"
        np.save(os.path.join(gd, fn), r32["grads"][name].astype(np.float32))
        index["grads"][name] = {"file": fn, "hub_name": "transformer." + name,
                                "shape": list(r32["grads"][name].shape)}
    np.save(os.path.join(gd, "wte.weight.embedding_part.npy"), r32["wte_grad_embedding_part"].astype(np.float32))
    np.save(os.path.join(gd, "wte.weight.head_part.npy"), r32["wte_grad_head_part"].astype(np.float32))
    index["wte_parts"] = {"embedding": "wte.weight.embedding_part.npy", "head": "wte.weight.head_part.npy"}
    # one entry a line: small enough to read
    lines = []
    for k, val in index.items():
        if isinstance(val, dict):
            inner = ",\n".join("  %s: %s" % (json.dumps(a), json.dumps(b)) for a, b in val.items())
            lines.append(" %s: {\n%s\n }" % (json.dumps(k), inner))
        elif k == "targets":
            lines.append(' "targets": [\n  ' + ",\n  ".join(json.dumps(t) for t in val) + "\n ]")
        else:
            lines.append(" %s: %s" % (json.dumps(k), json.dumps(val)))
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(index))
    with open(os.path.join(gd, "index.json"), "w") as f:
        f.write(text)
    max_grad = max(d for k, d in prec if k.startswith("grad"))
    with open(os.path.join(d1, "README.md"), "w") as f:
        f.write(README.format(torch=torch.__version__, numpy=np.__version__, seed=SEED,
                              hd=cfg["n_embd"] // cfg["n_head"], inner=4 * cfg["n_embd"],
                              nseq=N_SEQ, seqlen=SEQ_LEN, ntgt=N_SEQ * (SEQ_LEN - 1),
                              maxdiff=dict(prec)["logits"], maxgrad=max_grad, kbias=kb32,
                              epsbug=dict(sens)["layer norm eps 1e-12 instead of 1e-5"],
                              minbug=min(d for k, d in sens if "eps" not in k and "+0.01" not in k),
                              **cfg))
    # round trip: what we wrote reads back as what we computed with
    return verify(top)


def verify(top):
    d1 = os.path.join(top, "gpt2-tiny")
    d2 = os.path.join(top, "gpt2-tiny-noprefix")
    ok = True
    ids = read_ids(os.path.join(d1, "ids.txt"))
    ref = None
    for d in (d1, d2):
        cfg, P, raw = load_dir(d)
        r = run_all(P, cfg, ids, torch.float32)
        r64 = run_all(P, cfg, ids, torch.float64)
        if ref is None:
            ref = P
        else:
            same = ref.keys() == P.keys() and all(np.array_equal(ref[k], P[k]) for k in ref)
            print("%s: same weights as gpt2-tiny: %s" % (d, same))
            ok &= same
        checks = [compare("logits", r["logits"], np.load(os.path.join(d1, "logits.npy"))),
                  compare("hidden", r["hidden"], np.load(os.path.join(d1, "hidden.npy"))),
                  compare("logits float64", r64["logits"], np.load(os.path.join(d1, "logits.npy")))]
        with open(os.path.join(d1, "grads", "index.json")) as f:
            index = json.load(f)
        checks.append(("loss", abs(r["loss"] - index["loss"])))
        for name, info in index["grads"].items():
            checks.append(compare("grad " + name, r["grads"][name], np.load(os.path.join(d1, "grads", info["file"]))))
        for k, d_ in checks:
            good = d_ <= 1e-5
            ok &= good
            print("%s: %-28s max diff %.3e %s" % (d, k, d_, "ok" if good else "MISMATCH"))
    print("verify:", "ok" if ok else "FAILED")
    return 0 if ok else 1


def cmd_forward(args):
    cfg, P, _ = load_dir(args.dir)
    if cfg.get("activation_function", "gelu_new") not in ("gelu_new", "gelu_pytorch_tanh"):
        sys.exit("this reference implements gelu_new only")
    ids = torch.tensor(read_ids(args.ids))
    with torch.no_grad():
        logits, hidden = forward({k: torch.tensor(v) for k, v in P.items()}, cfg, ids)
    np.save(args.out, logits.numpy().astype(np.float32))
    if args.hidden:
        np.save(args.hidden, hidden.numpy().astype(np.float32))
    return 0


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "fixtures"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out-dir", default=default_out)
    v = sub.add_parser("verify")
    v.add_argument("--out-dir", default=default_out)
    f = sub.add_parser("forward")
    f.add_argument("dir")
    f.add_argument("--ids", required=True)
    f.add_argument("--out", required=True)
    f.add_argument("--hidden")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.cmd == "generate":
        return cmd_generate(args)
    if args.cmd == "verify":
        return verify(args.out_dir)
    return cmd_forward(args)


if __name__ == "__main__":
    sys.exit(main())
