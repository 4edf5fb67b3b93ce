#!/usr/bin/python3
"""Reference BERT for zoo's fixtures: a plain eager PyTorch implementation written from the
architecture (no `transformers`), a tiny seeded random model, and the expected outputs.

    /usr/bin/python3 plugins/bert/tests/reference/bert_reference.py generate [--out-dir plugins/bert/tests/fixtures]
        writes plugins/bert/tests/fixtures/bert-tiny/, bert-tiny-noprefix/ and bert-tiny-legacy/ (see the README
        in bert-tiny)
    /usr/bin/python3 plugins/bert/tests/reference/bert_reference.py verify [--out-dir plugins/bert/tests/fixtures]
        re-reads the committed files (weights from each model.safetensors, not from the RNG),
        recomputes everything and compares with the committed .npy files; exits non-zero on a mismatch
    /usr/bin/python3 plugins/bert/tests/reference/bert_reference.py forward DIR --ids FILE [--mask FILE]
            [--types FILE] --out MLM_LOGITS.npy [--hidden H.npy] [--pooled P.npy] [--nsp N.npy]
        the reference forward pass of any HF-style BERT directory (config.json + model.safetensors)

Needs Debian's python3-torch and python3-numpy only (hence /usr/bin/python3). This script is a
fixture generator, never a test-time dependency: the tests read the committed files.

Semantics follow HuggingFace BertForPreTraining (eval mode: every dropout is the identity):
  e = word[ids] + token_type[types] + position[0..T-1];  x = LN(e)
  for each layer (post-LN):
      q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv        (nn.Linear: weight stored [out, in])
      head h = columns [h*hd, (h+1)*hd); scores = q k^T / sqrt(hd) + (1 - mask[key]) * finfo.min
      ctx = softmax(scores) v, heads concatenated
      a = LN_attn(x + ctx Wo^T + bo)
      x = LN_out(a + gelu(a Wi^T + bi) Wd^T + bd)             (gelu = exact erf GELU)
  hidden = x                                  (BertModel's last_hidden_state; no final LayerNorm)
  pooled = tanh(hidden[:, 0] Wp^T + bp)       (the [CLS] position)
  mlm    = LN_t(gelu(hidden Wt^T + bt)) word^T + cls.predictions.bias   (decoder tied to word)
  nsp    = pooled Ws^T + bs                   ([B, 2])
  layer norm: biased variance, eps = layer_norm_eps (1e-12) inside the square root.
  The key-padding mask only removes padded *keys*; padded query rows are computed like any other
  (they attend to the real tokens), as HuggingFace does.
"""

import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

SEED = 20240612
CONFIG = {
    "model_type": "bert",
    "architectures": ["BertForPreTraining"],
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 40,
    "max_position_embeddings": 24,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_act": "gelu",
    "vocab_size": 61,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1,
    "initializer_range": 0.02,
    "use_cache": True,
    "torch_dtype": "float32",
}

# [PAD] [UNK] [CLS] [SEP] [MASK] at 0..4 (real BERT vocabularies put [UNK] [CLS] [SEP] [MASK] at
# 100..103: a loader must look the special tokens up by string), then 56 lowercase words and
# wordpieces. "mat" is last (id 60), so the highest id occurs in the inputs.
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [
    "the", "a", "cat", "dog", "it", "ran", "sat", "on", "in", "park",
    "##s", "##ed", "##ing", "##ly", "is", "was", "and", "to", "of", "he",
    "she", "they", "big", "small", "red", "blue", "house", "tree", "bird", "fly",
    "quick", "slow", "happy", "sad", "sun", "moon", ".", ",", "?", "un",
    "##able", "run", "jump", "over", "under", "day", "night", "good", "old", "new",
    "play", "walk", "sleep", "##er", "##est", "mat",
]
VOCAB = SPECIALS + WORDS
PAD, UNK, CLS, SEP, MASK = 0, 1, 2, 3, 4

# B=2 sequences of T=10 (sentence A, sentence B; the first padded, the second not)
SENTENCES = [
    (["the", "dog"], ["it", "ran"]),
    (["the", "cat", "sleep", "##s"], ["on", "the", "mat"]),
]
SEQ_LEN = 10
# training reference: masked positions per sequence (replaced by [MASK] in ids_masked.txt)
MASKED_POSITIONS = [[1, 2, 5], [2, 4, 8]]
NSP_LABELS = [0, 1]

# Parameters whose loss gradient is written to bert-tiny/grads/ (canonical names: no "bert." prefix)
GRAD_NAMES = [
    "embeddings.word_embeddings.weight",
    "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight",
    "embeddings.LayerNorm.weight",
    "encoder.layer.0.attention.self.query.weight",
    "encoder.layer.1.intermediate.dense.bias",
    "pooler.dense.weight",
    "cls.predictions.bias",
    "cls.seq_relationship.weight",
]


# ---------------------------------------------------------------------------------------------
# safetensors and npy, by hand (no python3-safetensors needed)

DTYPES = {"F32": ("<f4", 4), "F64": ("<f8", 8), "F16": ("<f2", 2), "I64": ("<i8", 8),
          "I32": ("<i4", 4), "U8": ("u1", 1), "BOOL": ("u1", 1)}


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, np.ndarray float32 or int64). Laid out as the safetensors library
    does: by dtype (I64 before F32, which keeps every tensor aligned), then by name."""
    def st_dtype(a):
        if a.dtype == np.int64:
            return "I64", a.astype("<i8")
        return "F32", np.asarray(a, dtype="<f4")
    items = [(name,) + st_dtype(np.asarray(arr)) for name, arr in tensors]
    items.sort(key=lambda t: (0 if t[1] == "I64" else 1, t[0]))
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    blobs, off = [], 0
    for name, dt, arr in items:
        b = arr.tobytes(order="C")
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
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


def read_ints(path):
    rows = []
    with open(path) as f:
        for line in f:
            line = line.replace(",", " ").split()
            if line:
                rows.append([int(t) for t in line])
    assert rows and all(len(r) == len(rows[0]) for r in rows), "%s: equal-length lines required" % path
    return np.array(rows, dtype=np.int64)


def write_ints(path, arr):
    with open(path, "w") as f:
        for row in arr:
            f.write(" ".join(str(int(t)) for t in row) + "\n")


# ---------------------------------------------------------------------------------------------
# names

def canonical(sd):
    """Hub state dict -> {canonical name: float32 array}. Strips the "bert." prefix, renames the
    legacy LayerNorm.gamma/beta to weight/bias, drops the position_ids buffer (after checking it is
    0..max_pos-1) and the tied decoder (after checking that it equals the word embeddings; likewise
    a cls.predictions.decoder.bias must equal cls.predictions.bias)."""
    out = {}
    extra = {}
    for k, v in sd.items():
        name = k[len("bert."):] if k.startswith("bert.") else k
        if name.endswith("LayerNorm.gamma"):
            name = name[:-len("gamma")] + "weight"
        elif name.endswith("LayerNorm.beta"):
            name = name[:-len("beta")] + "bias"
        if name in ("embeddings.position_ids", "cls.predictions.decoder.weight",
                    "cls.predictions.decoder.bias"):
            extra[name] = v
            continue
        assert name not in out, "duplicate tensor " + name
        out[name] = np.asarray(v, dtype=np.float32)
    if "embeddings.position_ids" in extra:
        p = extra["embeddings.position_ids"]
        assert np.array_equal(p.reshape(-1), np.arange(p.size)), "position_ids is not 0..n-1"
    if "cls.predictions.decoder.weight" in extra:
        assert np.array_equal(np.asarray(extra["cls.predictions.decoder.weight"], np.float32),
                              out["embeddings.word_embeddings.weight"]), \
            "cls.predictions.decoder.weight differs from the word embeddings; this reference ties them"
    if "cls.predictions.decoder.bias" in extra:
        assert np.array_equal(np.asarray(extra["cls.predictions.decoder.bias"], np.float32),
                              out["cls.predictions.bias"])
    return out


def layer_names(i):
    p = "encoder.layer.%d." % i
    return [p + s for s in (
        "attention.self.query.weight", "attention.self.query.bias",
        "attention.self.key.weight", "attention.self.key.bias",
        "attention.self.value.weight", "attention.self.value.bias",
        "attention.output.dense.weight", "attention.output.dense.bias",
        "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
        "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias",
        "output.LayerNorm.weight", "output.LayerNorm.bias")]


def param_order(cfg):
    names = ["embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
             "embeddings.token_type_embeddings.weight",
             "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias"]
    for i in range(cfg["num_hidden_layers"]):
        names += layer_names(i)
    names += ["pooler.dense.weight", "pooler.dense.bias",
              "cls.predictions.bias",
              "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
              "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
              "cls.seq_relationship.weight", "cls.seq_relationship.bias"]
    return names


def hub_name(name, prefix=True, legacy=False):
    if legacy:
        if name.endswith("LayerNorm.weight"):
            name = name[:-len("weight")] + "gamma"
        elif name.endswith("LayerNorm.bias"):
            name = name[:-len("bias")] + "beta"
    if prefix and not name.startswith("cls."):
        name = "bert." + name
    return name


def hub_tensors(P, cfg, prefix, decoder, position_ids, legacy):
    out = [(hub_name(n, prefix, legacy), P[n]) for n in param_order(cfg)]
    if decoder:
        out.append(("cls.predictions.decoder.weight", P["embeddings.word_embeddings.weight"]))
    if position_ids:
        out.append(((("bert." if prefix else "") + "embeddings.position_ids"),
                    np.arange(cfg["max_position_embeddings"], dtype=np.int64)[None]))
    return out


# ---------------------------------------------------------------------------------------------
# the model

def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)          # biased, as torch.nn.LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * w + b


def layer_norm_unbiased(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).sum(-1, keepdim=True) / (x.shape[-1] - 1)
    return (x - mu) / torch.sqrt(var + eps) * w + b


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def linear(x, w, b):
    return x @ w.t() + b                                  # nn.Linear: w stored [out, in]


DEFAULT_VARIANT = {}


def forward(P, cfg, ids, mask, types, decoder_weight=None, variant=DEFAULT_VARIANT):
    """P: {canonical name: torch tensor}; ids, mask, types: LongTensor [B,T].
    Returns dict mlm [B,T,V], hidden [B,T,C], pooled [B,C], nsp [B,2].
    decoder_weight: the MLM decoder matrix (defaults to the word embeddings, i.e. tied).
    variant: deliberate bugs, used only by the sensitivity check."""
    v = variant
    C, H, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_hidden_layers"]
    assert cfg.get("hidden_act", "gelu") == "gelu", "this reference implements hidden_act gelu (erf) only"
    assert cfg.get("position_embedding_type", "absolute") == "absolute"
    hd = C // H
    eps = v.get("eps", cfg["layer_norm_eps"])
    B, T = ids.shape
    act = gelu_tanh if v.get("gelu_tanh") else gelu_erf
    head_act = gelu_tanh if (v.get("gelu_tanh") or v.get("head_gelu_tanh")) else gelu_erf
    ln_f = layer_norm_unbiased if v.get("unbiased_var") else layer_norm

    def ln(x, prefix):
        w, b = P[prefix + "LayerNorm.weight"], P[prefix + "LayerNorm.bias"]
        if v.get("ln_swap_wb"):
            w, b = b, w
        return ln_f(x, w, b, eps)

    def W(name):
        w = P[name]
        if v.get("transpose_square") and w.dim() == 2 and w.shape[0] == w.shape[1]:
            w = w.t()
        return w

    # embeddings
    pos = torch.arange(T) + v.get("pos_offset", 0)
    tt = types
    if v.get("types_zero"):
        tt = torch.zeros_like(types)
    if v.get("types_swapped"):
        tt = (1 - types) * mask
    e = P["embeddings.word_embeddings.weight"][ids]
    if not v.get("no_token_type"):
        e = e + P["embeddings.token_type_embeddings.weight"][tt]
    e = e + P["embeddings.position_embeddings.weight"][pos][None]
    x = e if v.get("no_emb_ln") else ln(e, "embeddings.")

    # key-padding mask, additive as HuggingFace: (1 - mask) * finfo(dtype).min
    if v.get("mask_minus_1e4"):
        add_mask = (1.0 - mask.to(x.dtype)) * -10000.0
    else:
        add_mask = (1.0 - mask.to(x.dtype)) * torch.finfo(x.dtype).min
    add_mask = add_mask[:, None, None, :]                  # [B,1,1,T]: keys only

    order = list(range(L))
    if v.get("layers_reversed"):
        order.reverse()
    for i in order:
        p = "encoder.layer.%d." % i
        attn_ln, out_ln = p + "attention.output.", p + "output."
        if v.get("ln_swapped"):
            attn_ln, out_ln = out_ln, attn_ln

        def attention(a):
            q = linear(a, W(p + "attention.self.query.weight"), P[p + "attention.self.query.bias"])
            k = linear(a, W(p + "attention.self.key.weight"), P[p + "attention.self.key.bias"])
            vv = linear(a, W(p + "attention.self.value.weight"), P[p + "attention.self.value.bias"])
            if v.get("swap_qk"):
                q, k = k, q
            if v.get("swap_kv"):
                k, vv = vv, k

            def heads(t):
                if v.get("heads_interleaved"):
                    return t.view(B, T, hd, H).permute(0, 3, 1, 2)
                return t.view(B, T, H, hd).transpose(1, 2)         # [B,H,T,hd]
            q, k, vv = heads(q), heads(k), heads(vv)
            s = q @ k.transpose(-1, -2)
            if v.get("scale_by_C"):
                s = s / math.sqrt(C)
            elif not v.get("no_scale"):
                s = s / math.sqrt(hd)
            if not v.get("no_mask"):
                s = s + add_mask
            s = torch.softmax(s, dim=-1)
            o = (s @ vv).transpose(1, 2).reshape(B, T, C)
            return linear(o, W(p + "attention.output.dense.weight"), P[p + "attention.output.dense.bias"])

        def ffn(a):
            hmid = act(linear(a, P[p + "intermediate.dense.weight"], P[p + "intermediate.dense.bias"]))
            return linear(hmid, P[p + "output.dense.weight"], P[p + "output.dense.bias"])

        if v.get("pre_ln"):
            x = x + attention(ln(x, attn_ln))
            x = x + ffn(ln(x, out_ln))
        elif v.get("residual_outside_ln"):
            x = x + ln(attention(x), attn_ln)
            x = x + ln(ffn(x), out_ln)
        else:
            x = ln(x + attention(x), attn_ln)
            x = ln(x + ffn(x), out_ln)
    hidden = x

    # pooler
    if v.get("pool_mean"):
        m = mask.to(x.dtype)[:, :, None]
        first = (hidden * m).sum(1) / m.sum(1)
    else:
        first = hidden[:, 0]
    pooled = linear(first, W("pooler.dense.weight"), P["pooler.dense.bias"])
    if not v.get("pool_no_tanh"):
        pooled = torch.tanh(pooled)

    # heads
    t = linear(hidden, W("cls.predictions.transform.dense.weight"), P["cls.predictions.transform.dense.bias"])
    if not v.get("head_no_gelu"):
        t = head_act(t)
    if not v.get("head_no_ln"):
        t = ln(t, "cls.predictions.transform.")
    if decoder_weight is None:
        decoder_weight = P["embeddings.word_embeddings.weight"]
    mlm = t @ decoder_weight.t()
    if not v.get("no_mlm_bias"):
        mlm = mlm + P["cls.predictions.bias"]
    nsp = linear(pooled, P["cls.seq_relationship.weight"], P["cls.seq_relationship.bias"])
    return {"mlm_logits": mlm, "hidden": hidden, "pooled": pooled, "nsp_logits": nsp}


OUTPUTS = ["mlm_logits", "hidden", "pooled", "nsp_logits"]


def cross_entropy(logits, targets):
    """Mean over the rows whose target is not -100 (as torch/HF)."""
    V = logits.shape[-1]
    lf = logits.reshape(-1, V)
    tf = targets.reshape(-1)
    keep = tf != -100
    logp = torch.log_softmax(lf[keep], dim=-1)
    nll = -logp.gather(1, tf[keep][:, None])[:, 0]
    return nll.mean()


def pretraining_loss(out, mlm_labels, nsp_labels):
    """BertForPreTraining: MLM cross-entropy (mean over the labelled positions) + NSP
    cross-entropy (mean over the batch)."""
    mlm = cross_entropy(out["mlm_logits"], mlm_labels)
    nsp = cross_entropy(out["nsp_logits"], nsp_labels)
    return mlm + nsp, mlm, nsp


def run_all(P_np, cfg, inp, dtype):
    """Forward on inp['ids'] + loss and gradients on inp['ids_masked'] at the given dtype."""
    mask = torch.tensor(inp["mask"])
    types = torch.tensor(inp["types"])
    with torch.no_grad():
        P0 = {k: torch.tensor(v, dtype=dtype) for k, v in P_np.items()}
        out = forward(P0, cfg, torch.tensor(inp["ids"]), mask, types)
    res = {k: out[k].numpy().copy() for k in OUTPUTS}

    P = {k: torch.tensor(v, dtype=dtype, requires_grad=True) for k, v in P_np.items()}
    ids_m = torch.tensor(inp["ids_masked"])
    labels = torch.tensor(inp["mlm_labels"])
    nsp_labels = torch.tensor(inp["nsp_labels"])
    o = forward(P, cfg, ids_m, mask, types)
    loss, lm, ln_ = pretraining_loss(o, labels, nsp_labels)
    # cross-check our cross-entropy with torch's
    ref = torch.nn.functional.cross_entropy(o["mlm_logits"].reshape(-1, o["mlm_logits"].shape[-1]),
                                            labels.reshape(-1), ignore_index=-100) + \
        torch.nn.functional.cross_entropy(o["nsp_logits"], nsp_labels)
    assert abs(float(ref) - float(loss)) < 1e-5
    loss.backward()
    res["loss"], res["mlm_loss"], res["nsp_loss"] = float(loss), float(lm), float(ln_)
    res["grads"] = {k: P[k].grad.detach().numpy().copy() for k in P}

    # the two contributions to the tied word-embedding gradient, separately
    wname = "embeddings.word_embeddings.weight"
    Pe = {k: torch.tensor(v, dtype=dtype, requires_grad=(k == wname)) for k, v in P_np.items()}
    dec = torch.tensor(P_np[wname], dtype=dtype, requires_grad=True)
    o2 = forward(Pe, cfg, ids_m, mask, types, decoder_weight=dec)
    pretraining_loss(o2, labels, nsp_labels)[0].backward()
    res["word_grad_embedding_part"] = Pe[wname].grad.numpy().copy()
    res["word_grad_decoder_part"] = dec.grad.numpy().copy()
    return res


# ---------------------------------------------------------------------------------------------
# the random model and the inputs

def make_weights(cfg, seed):
    rng = np.random.default_rng(seed)
    C, L, V = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["vocab_size"]
    I, NP, TV = cfg["intermediate_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]

    def n(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def lnw(shape):
        return (1.0 + rng.standard_normal(shape) * 0.3).astype(np.float32)

    P = {"embeddings.word_embeddings.weight": n((V, C), 0.5),
         "embeddings.position_embeddings.weight": n((NP, C), 0.3),
         "embeddings.token_type_embeddings.weight": n((TV, C), 0.3),
         "embeddings.LayerNorm.weight": lnw((C,)),
         "embeddings.LayerNorm.bias": n((C,), 0.2)}
    for i in range(L):
        p = "encoder.layer.%d." % i
        for m in ("query", "key", "value"):
            P[p + "attention.self.%s.weight" % m] = n((C, C), 0.35)
            P[p + "attention.self.%s.bias" % m] = n((C,), 0.2)
        P[p + "attention.output.dense.weight"] = n((C, C), 0.3)
        P[p + "attention.output.dense.bias"] = n((C,), 0.2)
        P[p + "attention.output.LayerNorm.weight"] = lnw((C,))
        P[p + "attention.output.LayerNorm.bias"] = n((C,), 0.2)
        P[p + "intermediate.dense.weight"] = n((I, C), 0.3)
        P[p + "intermediate.dense.bias"] = n((I,), 0.3)
        P[p + "output.dense.weight"] = n((C, I), 0.25)
        P[p + "output.dense.bias"] = n((C,), 0.2)
        P[p + "output.LayerNorm.weight"] = lnw((C,))
        P[p + "output.LayerNorm.bias"] = n((C,), 0.2)
    P["pooler.dense.weight"] = n((C, C), 0.3)
    P["pooler.dense.bias"] = n((C,), 0.2)
    P["cls.predictions.bias"] = n((V,), 0.3)
    P["cls.predictions.transform.dense.weight"] = n((C, C), 0.3)
    P["cls.predictions.transform.dense.bias"] = n((C,), 0.2)
    P["cls.predictions.transform.LayerNorm.weight"] = lnw((C,))
    P["cls.predictions.transform.LayerNorm.bias"] = n((C,), 0.2)
    P["cls.seq_relationship.weight"] = n((2, C), 0.5)
    P["cls.seq_relationship.bias"] = n((2,), 0.3)
    assert sorted(P) == sorted(param_order(cfg))
    return P


def make_inputs():
    tok = {w: i for i, w in enumerate(VOCAB)}
    ids, mask, types = [], [], []
    for a, b in SENTENCES:
        row = [CLS] + [tok[w] for w in a] + [SEP] + [tok[w] for w in b] + [SEP]
        ty = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        n = len(row)
        assert n <= SEQ_LEN
        ids.append(row + [PAD] * (SEQ_LEN - n))
        mask.append([1] * n + [0] * (SEQ_LEN - n))
        types.append(ty + [0] * (SEQ_LEN - n))
    ids = np.array(ids, dtype=np.int64)
    ids_masked = ids.copy()
    labels = np.full(ids.shape, -100, dtype=np.int64)
    for b, positions in enumerate(MASKED_POSITIONS):
        for t in positions:
            assert ids[b, t] > MASK, "mask only ordinary tokens"
            labels[b, t] = ids[b, t]
            ids_masked[b, t] = MASK
    return {"ids": ids, "mask": np.array(mask, dtype=np.int64), "types": np.array(types, dtype=np.int64),
            "ids_masked": ids_masked, "mlm_labels": labels,
            "nsp_labels": np.array(NSP_LABELS, dtype=np.int64)}


# ---------------------------------------------------------------------------------------------
# checks

def torch_nn_forward(P_np, cfg, ids, mask, types):
    """The same model through torch's own modules (nn.TransformerEncoderLayer is exactly a post-LN
    BERT layer: norm1(x + self_attn(x)), norm2(x + linear2(gelu(linear1(x))))), F.layer_norm and
    F.gelu: an independent cross-check of forward(). Parameters require grad, which keeps torch off
    its fused inference fast path."""
    F = torch.nn.functional
    C, H, I = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"]
    eps = cfg["layer_norm_eps"]
    P = {k: torch.tensor(v) for k, v in P_np.items()}
    ids, mask, types = torch.tensor(ids), torch.tensor(mask), torch.tensor(types)
    T = ids.shape[1]
    x = F.embedding(ids, P["embeddings.word_embeddings.weight"]) + \
        F.embedding(types, P["embeddings.token_type_embeddings.weight"]) + \
        F.embedding(torch.arange(T), P["embeddings.position_embeddings.weight"])[None]
    x = F.layer_norm(x, (C,), P["embeddings.LayerNorm.weight"], P["embeddings.LayerNorm.bias"], eps)
    for i in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % i
        layer = torch.nn.TransformerEncoderLayer(C, H, dim_feedforward=I, dropout=0.0, activation="gelu",
                                                 layer_norm_eps=eps, batch_first=True, norm_first=False)
        sd = {
            "self_attn.in_proj_weight": torch.cat([P[p + "attention.self.%s.weight" % m]
                                                   for m in ("query", "key", "value")]),
            "self_attn.in_proj_bias": torch.cat([P[p + "attention.self.%s.bias" % m]
                                                 for m in ("query", "key", "value")]),
            "self_attn.out_proj.weight": P[p + "attention.output.dense.weight"],
            "self_attn.out_proj.bias": P[p + "attention.output.dense.bias"],
            "linear1.weight": P[p + "intermediate.dense.weight"],
            "linear1.bias": P[p + "intermediate.dense.bias"],
            "linear2.weight": P[p + "output.dense.weight"],
            "linear2.bias": P[p + "output.dense.bias"],
            "norm1.weight": P[p + "attention.output.LayerNorm.weight"],
            "norm1.bias": P[p + "attention.output.LayerNorm.bias"],
            "norm2.weight": P[p + "output.LayerNorm.weight"],
            "norm2.bias": P[p + "output.LayerNorm.bias"],
        }
        layer.load_state_dict(sd)
        layer.eval()
        x = layer(x, src_key_padding_mask=(mask == 0))
    hidden = x
    pooled = torch.tanh(F.linear(hidden[:, 0], P["pooler.dense.weight"], P["pooler.dense.bias"]))
    t = F.gelu(F.linear(hidden, P["cls.predictions.transform.dense.weight"],
                        P["cls.predictions.transform.dense.bias"]))
    t = F.layer_norm(t, (C,), P["cls.predictions.transform.LayerNorm.weight"],
                     P["cls.predictions.transform.LayerNorm.bias"], eps)
    mlm = F.linear(t, P["embeddings.word_embeddings.weight"], P["cls.predictions.bias"])
    nsp = F.linear(pooled, P["cls.seq_relationship.weight"], P["cls.seq_relationship.bias"])
    out = {"mlm_logits": mlm, "hidden": hidden, "pooled": pooled, "nsp_logits": nsp}
    return {k: out[k].detach().numpy() for k in OUTPUTS}


def max_changes(out, ref):
    return [float((out[k] - torch.tensor(ref[k])).abs().max()) for k in OUTPUTS]


BUGS = [
    ("tanh GELU instead of erf (everywhere)", {"gelu_tanh": True}),
    ("tanh GELU in the MLM head only", {"head_gelu_tanh": True}),
    ("layer norm eps 1e-5 instead of 1e-12", {"eps": 1e-5}),
    ("layer norm eps 1e-6 instead of 1e-12", {"eps": 1e-6}),
    ("layer norm eps 0 instead of 1e-12 (equivalent)", {"eps": 0.0}),
    ("padding mask -10000 (older HF; equivalent)", {"mask_minus_1e4": True}),
    ("no padding mask", {"no_mask": True}),
    ("pre-LN instead of post-LN", {"pre_ln": True}),
    ("x + LN(sublayer(x)) instead of LN(x + ...)", {"residual_outside_ln": True}),
    ("no token type embeddings", {"no_token_type": True}),
    ("token types all 0", {"types_zero": True}),
    ("segments A/B swapped", {"types_swapped": True}),
    ("positions start at 1", {"pos_offset": 1}),
    ("no embedding LayerNorm", {"no_emb_ln": True}),
    ("square Linear weights transposed ([in,out])", {"transpose_square": True}),
    ("no 1/sqrt(head_dim) scaling", {"no_scale": True}),
    ("scaling by 1/sqrt(hidden) instead", {"scale_by_C": True}),
    ("q and k swapped", {"swap_qk": True}),
    ("k and v swapped", {"swap_kv": True}),
    ("heads interleaved (view T,hd,H)", {"heads_interleaved": True}),
    ("the two LayerNorms of a layer swapped", {"ln_swapped": True}),
    ("LayerNorm weight and bias swapped (gamma/beta)", {"ln_swap_wb": True}),
    ("layers in reverse order", {"layers_reversed": True}),
    ("layer norm with unbiased variance", {"unbiased_var": True}),
    ("pooler without tanh", {"pool_no_tanh": True}),
    ("pooler on the masked mean, not [CLS]", {"pool_mean": True}),
    ("MLM head without GELU", {"head_no_gelu": True}),
    ("MLM head without its LayerNorm", {"head_no_ln": True}),
    ("MLM without the output bias", {"no_mlm_bias": True}),
]
EQUIVALENT = ("(equivalent)", "equivalent)")


def sensitivity(P_np, cfg, inp, ref):
    """How far each output moves under plausible implementation bugs and under a loader that drops
    one tensor (sets it to its trivial value), or perturbs one element by 0.01.
    Rows: (label, [max |change| of mlm_logits, hidden, pooled, nsp_logits])."""
    P = {k: torch.tensor(v) for k, v in P_np.items()}
    ids, mask, types = (torch.tensor(inp[k]) for k in ("ids", "mask", "types"))
    rows = []
    with torch.no_grad():
        for label, var in BUGS:
            rows.append((label, max_changes(forward(P, cfg, ids, mask, types, variant=var), ref)))
        C = cfg["hidden_size"]
        for name in param_order(cfg):
            Q = dict(P)
            Q[name] = torch.ones_like(P[name]) if name.endswith("LayerNorm.weight") else torch.zeros_like(P[name])
            inv = " (invisible)" if name.endswith("attention.self.key.bias") else ""
            rows.append(("tensor %s trivial (0 or 1)%s" % (name, inv),
                         max_changes(forward(Q, cfg, ids, mask, types), ref)))
            j = P[name].numel() // 2
            what = ""
            if name == "embeddings.word_embeddings.weight":
                j = int(inp["ids"][1, 3]) * C + 5                # a row that is used as input
            elif name == "embeddings.position_embeddings.weight":
                j = 3 * C + 5                                    # a position < T
            elif name.endswith("attention.self.key.bias"):
                what = " (invisible)"
            Q[name] = P[name].clone()
            Q[name].view(-1)[j] += 0.01
            rows.append(("tensor %s one element +0.01%s" % (name, what),
                         max_changes(forward(Q, cfg, ids, mask, types), ref)))
    return rows


def compare(label, a, b):
    d = float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))
    return label, d


def report_precision(r32, r64):
    rows = [compare(k, r32[k], r64[k]) for k in OUTPUTS]
    rows += [(k, abs(r32[k] - r64[k])) for k in ("loss", "mlm_loss", "nsp_loss")]
    for k in GRAD_NAMES:
        rows.append(compare("grad " + k, r32["grads"][k], r64["grads"][k]))
    rows.append(compare("grad word embeddings (embedding part)", r32["word_grad_embedding_part"],
                        r64["word_grad_embedding_part"]))
    rows.append(compare("grad word embeddings (decoder part)", r32["word_grad_decoder_part"],
                        r64["word_grad_decoder_part"]))
    return rows


def invariants(r, cfg, inp):
    """Facts that hold in exact arithmetic; returns (label, value) rows (values ~ rounding noise)."""
    g = r["grads"]
    C = cfg["hidden_size"]
    rows = []
    for i in range(cfg["num_hidden_layers"]):
        rows.append(("|grad encoder.layer.%d.attention.self.key.bias| (softmax shift)" % i,
                     float(np.abs(g["encoder.layer.%d.attention.self.key.bias" % i]).max())))
    # anything added right before a LayerNorm: its component along (1,...,1) is invisible
    for name in ("embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                 "embeddings.token_type_embeddings.weight",
                 "encoder.layer.0.attention.output.dense.bias", "encoder.layer.1.output.dense.bias"):
        gg = r["word_grad_embedding_part"] if name.startswith("embeddings.word") else g[name]
        rows.append(("|row sums over hidden of grad %s%s| (LN shift)" %
                     (name, " (embedding part)" if name.startswith("embeddings.word") else ""),
                     float(np.abs(gg.reshape(-1, C).sum(-1)).max())))
    rows.append(("|sum of grad cls.predictions.bias| (softmax shift)", float(abs(g["cls.predictions.bias"].sum()))))
    rows.append(("|column sums of grad cls.seq_relationship.weight|",
                 float(np.abs(g["cls.seq_relationship.weight"].sum(0)).max())))
    used = set(int(t) for t in inp["ids_masked"][inp["mask"] == 1].reshape(-1))
    unused = [t for t in range(cfg["vocab_size"]) if t not in used]
    rows.append(("|grad word embeddings (embedding part), ids not in a real position| (exactly 0)",
                 float(np.abs(r["word_grad_embedding_part"][unused]).max())))
    T = inp["ids"].shape[1]
    rows.append(("|grad position embeddings rows >= T| (exactly 0)",
                 float(np.abs(g["embeddings.position_embeddings.weight"][T:]).max())))
    return rows


# ---------------------------------------------------------------------------------------------
# commands

DIRS = ("bert-tiny", "bert-tiny-noprefix", "bert-tiny-legacy")


def load_dir(d):
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    sd = read_safetensors(os.path.join(d, "model.safetensors"))
    return cfg, canonical(sd), sd


def load_inputs(d1):
    inp = {k: read_ints(os.path.join(d1, k + ".txt"))
           for k in ("ids", "mask", "types", "ids_masked", "mlm_labels")}
    with open(os.path.join(d1, "grads", "index.json")) as f:
        inp["nsp_labels"] = np.array(json.load(f)["nsp_labels"], dtype=np.int64)
    return inp


README = """# bert-tiny: reference fixtures for zoo's HuggingFace BERT loading, forward pass and gradients

Generated by `plugins/bert/tests/reference/bert_reference.py` (plain eager PyTorch written from the BERT
architecture, no `transformers`; Debian's python3-torch {torch} and python3-numpy {numpy}):

    /usr/bin/python3 plugins/bert/tests/reference/bert_reference.py generate     # rewrites all three fixture directories
    /usr/bin/python3 plugins/bert/tests/reference/bert_reference.py verify       # recomputes from the committed files

Tests are to read these files; nothing at test time needs PyTorch. `generate` also prints the
float32-vs-float64 differences, some exact-arithmetic invariants and the sensitivity table the
tolerance note below summarises; both commands also recompute the outputs through torch's own
modules (nn.TransformerEncoderLayer, which is exactly a post-LN BERT layer, F.layer_norm, F.gelu)
as an independent check of the hand-written forward pass (agreement {xcheck:.1e}). The reference
forward pass of any HF BERT directory is `bert_reference.py forward DIR --ids F [--mask F]
[--types F] --out MLM.npy [--hidden H.npy] [--pooled P.npy] [--nsp N.npy]`.

## The model

`config.json` (BertConfig field names): model_type `bert`, architectures `["BertForPreTraining"]`,
hidden_size {hidden_size}, num_hidden_layers {num_hidden_layers}, num_attention_heads {num_attention_heads} (head size {hd}),
intermediate_size {intermediate_size} (not 4 x hidden, on purpose), max_position_embeddings {max_position_embeddings},
type_vocab_size {type_vocab_size}, layer_norm_eps 1e-12, hidden_act `gelu` (exact erf GELU),
vocab_size {vocab_size} (odd on purpose), pad_token_id 0, position_embedding_type `absolute`; the dropout
probabilities are present and ignored (eval-mode semantics everywhere, gradients included).
Post-LN encoder; MLM decoder tied to the word embeddings plus `cls.predictions.bias`.
Weights are random, numpy `default_rng({seed})`, deliberately large so every parameter matters:
word embeddings std 0.5, position and token-type 0.3, query/key/value 0.35, attention output 0.3,
intermediate 0.3 (bias 0.3), output 0.25, pooler / MLM transform 0.3, seq_relationship 0.5 (bias 0.3),
cls.predictions.bias 0.3, other biases 0.2, every LayerNorm weight 1 + 0.3 N(0,1), bias 0.2 N(0,1).

`vocab.txt` ({vocab_size} lines, same in all three directories): `[PAD]`=0 `[UNK]`=1 `[CLS]`=2 `[SEP]`=3
`[MASK]`=4, then 56 lowercase words and `##` wordpieces (`mat` is the last, id 60). Real BERT
vocabularies put `[UNK] [CLS] [SEP] [MASK]` at 100..103: look special tokens up by string.

Three directories, same weights, same config.json and vocab.txt, hence the same expected outputs
(the files here). All float tensors F32; `__metadata__` is {{"format": "pt"}}; tensors laid out as
the safetensors library does (I64 first, then by name).

- `bert-tiny/model.safetensors`: the hub's BertForPreTraining names: `bert.embeddings.word_embeddings.weight` [V,C],
  `bert.embeddings.position_embeddings.weight` [{max_position_embeddings},C], `bert.embeddings.token_type_embeddings.weight` [2,C],
  `bert.embeddings.LayerNorm.weight/bias`, `bert.encoder.layer.{{i}}.attention.self.query/key/value.weight` [C,C] `/bias`,
  `bert.encoder.layer.{{i}}.attention.output.dense.weight/bias`, `bert.encoder.layer.{{i}}.attention.output.LayerNorm.weight/bias`,
  `bert.encoder.layer.{{i}}.intermediate.dense.weight` [{intermediate_size},C] `/bias` [{intermediate_size}],
  `bert.encoder.layer.{{i}}.output.dense.weight` [C,{intermediate_size}] `/bias`, `bert.encoder.layer.{{i}}.output.LayerNorm.weight/bias`,
  `bert.pooler.dense.weight/bias`, `cls.predictions.bias` [V], `cls.predictions.transform.dense.weight/bias`,
  `cls.predictions.transform.LayerNorm.weight/bias`, `cls.predictions.decoder.weight` [V,C] (a copy of the
  word embeddings: tied), `cls.seq_relationship.weight` [2,C] `/bias` [2], and the buffer
  `bert.embeddings.position_ids` (**I64** [1,{max_position_embeddings}], 0..{maxpos1}), which a loader must ignore.
  All Linear weights in PyTorch's nn.Linear layout [out,in] (y = x W^T + b).
- `../bert-tiny-noprefix/model.safetensors`: no `bert.` prefix on the embeddings / encoder / pooler
  names (`cls.*` unchanged), no `cls.predictions.decoder.weight` (tied) and no `position_ids`.
- `../bert-tiny-legacy/model.safetensors`: as bert-tiny (prefix, decoder copy and position_ids kept) but
  every `LayerNorm.weight` is `LayerNorm.gamma` and every `LayerNorm.bias` is `LayerNorm.beta`
  (the names of old TF-converted checkpoints), including `cls.predictions.transform.LayerNorm`.

## Inputs and expected outputs (all float32, computed in float32)

Integer files: one sequence per line, space-separated, B={nseq} lines of T={seqlen}.

- `ids.txt`: `{sent0}` and `{sent1}`
  (the first with 3 padding positions, the second without).
- `mask.txt`: 1 for a real token, 0 for padding.
- `types.txt`: token types: 0 for [CLS], sentence A and its [SEP]; 1 for sentence B and its [SEP]; 0 on padding.
- `mlm_logits.npy` [B,T,V]: the MLM head's logits for `ids` (`zoo forward plugins/bert/tests/fixtures/bert-tiny --ids ids.txt
  --mask mask.txt --types types.txt --out FILE.npy`; the same with the two other directories).
- `hidden.npy` [B,T,C]: BertModel's last_hidden_state (output of the last layer's output LayerNorm; there
  is no final LayerNorm) (`--hidden`).
- `pooled.npy` [B,C]: the pooler output, tanh(dense(hidden[:, 0])).
- `nsp_logits.npy` [B,2]: the next-sentence logits, seq_relationship(pooled).

Padding: the mask removes padded positions as *keys* only (additive (1-mask)*finfo.min before the
softmax, as HuggingFace; -10000 gives the same numbers). Padded positions are still computed as
queries, and their rows in every output are HuggingFace's values; no real position depends on
them, so a test that ignores padding may compare only the rows where mask is 1.

## Training reference (`grads/`)

- `ids_masked.txt`: `ids` with [MASK]=4 at 3 positions per sequence ({masked}); same `mask.txt` and `types.txt`.
- `mlm_labels.txt`: the original ids at those positions, -100 elsewhere.
- NSP labels `[0, 1]` (0 = B follows A, 1 = random B), in `grads/index.json` as `nsp_labels`.
- Loss (BertForPreTraining, natural log): MLM cross-entropy averaged over the {nmask} labelled positions
  plus NSP cross-entropy averaged over the {nseq} sequences. `index.json` holds `loss` (the float32
  result), `mlm_loss`, `nsp_loss`, their `*_float64` values, the labels, and for each listed
  parameter (canonical name without `bert.`, with its names in each directory) the file holding
  d loss / d parameter in the parameter's stored layout. The word-embedding gradient is for the tied
  matrix: the embedding-lookup contribution plus the MLM-decoder contribution, which are also given
  separately (`embeddings.word_embeddings.weight.embedding_part.npy`, `...decoder_part.npy`).
  No dropout.
- Exact-arithmetic facts (rounding noise here, max {inv_noise:.1e}): every row of the embedding-part
  word gradient, of the position and token-type gradients sums to 0 over the hidden axis (the embedding
  LayerNorm removes any shift along (1,...,1)); the cls.predictions.bias gradient sums to 0 and the
  columns of the cls.seq_relationship.weight gradient sum to 0 (softmax shift). The embedding-part
  gradient is exactly 0 for ids that occur at no real position (including [PAD]=0, only at padding
  positions here), and position rows >= T are exactly 0. `attention.self.key.bias` cannot affect
  anything (q.bk is constant along each softmax row): its gradient is 0 up to rounding; it is not
  listed, and a changed key bias moves no output by more than {kbias:.1e}.

Tolerance: zoo must match to 1e-4 absolute. The same computation in float64 differs from these
float32 files by at most {maxdiff:.2e} (any output), {maxgrad:.2e} (any gradient). Each plausible bug the
generator tries (tanh GELU, no padding mask, pre-LN, no or swapped token types, transposed square
Linear weights, missing scale, swapped q/k, the two LayerNorms of a layer swapped, gamma/beta swapped,
no MLM bias, any one tensor dropped, ...) moves some output by at least {minbug:.2e}. The smallest
is GELU: tanh instead of erf moves mlm_logits by {tanh0:.1e} but hidden only by {tanh1:.1e}, pooled
by {tanh2:.1e} and nsp_logits by {tanh3:.1e}, so compare mlm_logits too, not only the hidden states.
Layer-norm eps is NOT visible at this tolerance: 1e-5 instead of 1e-12 moves the outputs by at
most {epsbug:.1e} (the layer norms' inputs have variance of order 1 here, as in real BERT); read
layer_norm_eps from config.json all the same.
"""


def grad_entry(name, shape):
    return {"file": name + ".npy", "hub_name": hub_name(name), "noprefix_name": hub_name(name, prefix=False),
            "legacy_name": hub_name(name, legacy=True), "shape": list(shape)}


def write_index(path, index):
    lines = []
    for k, val in index.items():
        if isinstance(val, dict):
            inner = ",\n".join("  %s: %s" % (json.dumps(a), json.dumps(b)) for a, b in val.items())
            lines.append(" %s: {\n%s\n }" % (json.dumps(k), inner))
        elif k == "mlm_labels":
            lines.append(' "mlm_labels": [\n  ' + ",\n  ".join(json.dumps(t) for t in val) + "\n ]")
        else:
            lines.append(" %s: %s" % (json.dumps(k), json.dumps(val)))
    text = "{\n" + ",\n".join(lines) + "\n}\n"
    assert json.loads(text) == json.loads(json.dumps(index))
    with open(path, "w") as f:
        f.write(text)


def cmd_generate(args):
    cfg = dict(CONFIG)
    P = make_weights(cfg, SEED)
    inp = make_inputs()
    r32 = run_all(P, cfg, inp, torch.float32)
    r64 = run_all(P, cfg, inp, torch.float64)

    nn_out = torch_nn_forward(P, cfg, inp["ids"], inp["mask"], inp["types"])
    xcheck = [compare(k, nn_out[k], r32[k]) for k in OUTPUTS]
    print("cross-check with torch.nn.TransformerEncoderLayer / F.layer_norm / F.gelu, max |difference|: "
          + ", ".join("%s %.1e" % kd for kd in xcheck))
    assert max(d for k, d in xcheck) < 1e-5, "forward() disagrees with torch's own modules"
    prec = report_precision(r32, r64)
    print("float32 vs float64 (same float32 weights), max |difference|:")
    for k, d in prec:
        print("  %-50s %.3e" % (k, d))
    print("scale: max |mlm logit| %.3f, mlm logit std %.3f, max |hidden| %.3f, max |pooled| %.3f, "
          "max |nsp| %.3f" % (np.abs(r32["mlm_logits"]).max(), r32["mlm_logits"].std(),
                              np.abs(r32["hidden"]).max(), np.abs(r32["pooled"]).max(),
                              np.abs(r32["nsp_logits"]).max()))
    print("loss %.6f = mlm %.6f + nsp %.6f (float64 %.9f)" % (r32["loss"], r32["mlm_loss"],
                                                            r32["nsp_loss"], r64["loss"]))
    inv32 = invariants(r32, cfg, inp)
    inv64 = invariants(r64, cfg, inp)
    print("exact-arithmetic invariants (float32, float64):")
    for (k, a), (_, b) in zip(inv32, inv64):
        print("  %-86s %.1e %.1e" % (k, a, b))
    sens = sensitivity(P, cfg, inp, r32)
    print("sensitivity (max |change|):%s mlm_logits    hidden      pooled      nsp_logits" % (" " * 37))
    for k, d in sens:
        print("  %-62s %s" % (k, "  ".join("%.3e" % x for x in d)))

    max_prec = max(d for k, d in prec)
    assert max_prec < 1e-5, "float32 is not close enough to float64 for a 1e-4 tolerance"
    bugs = [(k, max(d)) for k, d in sens
            if "eps" not in k and "+0.01" not in k and not k.endswith(EQUIVALENT) and "invisible" not in k]
    for k, d in bugs:
        assert d > 1e-3, "bug would go unnoticed at 1e-4: %s (%.2e)" % (k, d)
    for k, d in sens:
        if k.endswith(EQUIVALENT):
            assert max(d) < 1e-5, k
        if "+0.01" in k and "invisible" not in k:
            assert max(d) > 1e-4, "a 0.01 change is invisible: " + k
    assert max(a for k, a in inv32) < 1e-5

    top = args.out_dir
    dirs = [os.path.join(top, d) for d in DIRS]
    d1 = dirs[0]
    gd = os.path.join(d1, "grads")
    for d in dirs + [gd]:
        os.makedirs(d, exist_ok=True)
    for d in dirs:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        with open(os.path.join(d, "vocab.txt"), "w") as f:
            f.write("".join(w + "\n" for w in VOCAB))
    write_safetensors(os.path.join(dirs[0], "model.safetensors"),
                      hub_tensors(P, cfg, prefix=True, decoder=True, position_ids=True, legacy=False),
                      {"format": "pt"})
    write_safetensors(os.path.join(dirs[1], "model.safetensors"),
                      hub_tensors(P, cfg, prefix=False, decoder=False, position_ids=False, legacy=False),
                      {"format": "pt"})
    write_safetensors(os.path.join(dirs[2], "model.safetensors"),
                      hub_tensors(P, cfg, prefix=True, decoder=True, position_ids=True, legacy=True),
                      {"format": "pt"})
    for k in ("ids", "mask", "types", "ids_masked", "mlm_labels"):
        write_ints(os.path.join(d1, k + ".txt"), inp[k])
    for k in OUTPUTS:
        np.save(os.path.join(d1, k + ".npy"), r32[k].astype(np.float32))

    index = {
        "loss": r32["loss"], "loss_float64": r64["loss"],
        "mlm_loss": r32["mlm_loss"], "mlm_loss_float64": r64["mlm_loss"],
        "nsp_loss": r32["nsp_loss"], "nsp_loss_float64": r64["nsp_loss"],
        "reduction": "mean MLM cross-entropy over the positions whose label is not -100 "
                     "+ mean NSP cross-entropy over the batch",
        "inputs": "../ids_masked.txt with ../mask.txt and ../types.txt",
        "mlm_labels": inp["mlm_labels"].tolist(),
        "nsp_labels": inp["nsp_labels"].tolist(),
        "grads": {},
    }
    for name in GRAD_NAMES:
        np.save(os.path.join(gd, name + ".npy"), r32["grads"][name].astype(np.float32))
        index["grads"][name] = grad_entry(name, r32["grads"][name].shape)
    wname = "embeddings.word_embeddings.weight"
    np.save(os.path.join(gd, wname + ".embedding_part.npy"), r32["word_grad_embedding_part"].astype(np.float32))
    np.save(os.path.join(gd, wname + ".decoder_part.npy"), r32["word_grad_decoder_part"].astype(np.float32))
    index["word_embeddings_parts"] = {"embedding": wname + ".embedding_part.npy",
                                      "decoder": wname + ".decoder_part.npy"}
    write_index(os.path.join(gd, "index.json"), index)

    tok = VOCAB
    sents = [" ".join(tok[int(t)] for t in row) for row in inp["ids"]]
    sens_d = {k: max(d) for k, d in sens}
    tanh = dict(sens)["tanh GELU instead of erf (everywhere)"]
    kbias = max(sens_d[k] for k in sens_d if "key.bias" in k)
    with open(os.path.join(d1, "README.md"), "w") as f:
        f.write(README.format(
            torch=torch.__version__, numpy=np.__version__, seed=SEED,
            hd=cfg["hidden_size"] // cfg["num_attention_heads"], maxpos1=cfg["max_position_embeddings"] - 1,
            nseq=len(SENTENCES), seqlen=SEQ_LEN, sent0=sents[0], sent1=sents[1],
            masked="; ".join("sequence %d: positions %s" % (b, ", ".join(map(str, p)))
                             for b, p in enumerate(MASKED_POSITIONS)),
            nmask=sum(len(p) for p in MASKED_POSITIONS),
            inv_noise=max(a for k, a in inv32), kbias=kbias, xcheck=max(d for k, d in xcheck),
            maxdiff=max(d for k, d in prec[:len(OUTPUTS)]),
            maxgrad=max(d for k, d in prec if k.startswith("grad")),
            minbug=min(d for k, d in bugs),
            tanh0=tanh[0], tanh1=tanh[1], tanh2=tanh[2], tanh3=tanh[3],
            epsbug=sens_d["layer norm eps 1e-5 instead of 1e-12"],
            **cfg))
    # round trip: what we wrote reads back as what we computed with
    return verify(top)


def verify(top):
    dirs = [os.path.join(top, d) for d in DIRS]
    d1 = dirs[0]
    ok = True
    inp = load_inputs(d1)
    with open(os.path.join(d1, "grads", "index.json")) as f:
        index = json.load(f)
    vocab0 = open(os.path.join(d1, "vocab.txt")).read()
    ref = None
    for d in dirs:
        cfg, P, raw = load_dir(d)
        same_vocab = open(os.path.join(d, "vocab.txt")).read() == vocab0
        ok &= same_vocab and len(vocab0.splitlines()) == cfg["vocab_size"]
        if ref is None:
            ref = P
        else:
            same = ref.keys() == P.keys() and all(np.array_equal(ref[k], P[k]) for k in ref)
            print("%s: same weights and vocab as bert-tiny: %s" % (d, same and same_vocab))
            ok &= same
        r = run_all(P, cfg, inp, torch.float32)
        r64 = run_all(P, cfg, inp, torch.float64)
        checks = [compare(k, r[k], np.load(os.path.join(d1, k + ".npy"))) for k in OUTPUTS]
        checks += [compare(k + " float64", r64[k], np.load(os.path.join(d1, k + ".npy"))) for k in OUTPUTS]
        nn_out = torch_nn_forward(P, cfg, inp["ids"], inp["mask"], inp["types"])
        checks += [compare(k + " torch.nn", nn_out[k], np.load(os.path.join(d1, k + ".npy"))) for k in OUTPUTS]
        checks += [(k, abs(r[k] - index[k])) for k in ("loss", "mlm_loss", "nsp_loss")]
        for name, info in index["grads"].items():
            checks.append(compare("grad " + name, r["grads"][name], np.load(os.path.join(d1, "grads", info["file"]))))
        for part, fn in index["word_embeddings_parts"].items():
            checks.append(compare("grad word embeddings %s part" % part, r["word_grad_%s_part" % part],
                                  np.load(os.path.join(d1, "grads", fn))))
        for k, d_ in checks:
            good = d_ <= 1e-5
            ok &= good
            print("%s: %-52s max diff %.3e %s" % (os.path.basename(d), k, d_, "ok" if good else "MISMATCH"))
    print("verify:", "ok" if ok else "FAILED")
    return 0 if ok else 1


def cmd_forward(args):
    cfg, P, _ = load_dir(args.dir)
    ids = read_ints(args.ids)
    mask = read_ints(args.mask) if args.mask else np.ones_like(ids)
    types = read_ints(args.types) if args.types else np.zeros_like(ids)
    assert mask.shape == ids.shape and types.shape == ids.shape
    with torch.no_grad():
        out = forward({k: torch.tensor(v) for k, v in P.items()}, cfg, torch.tensor(ids),
                      torch.tensor(mask), torch.tensor(types))
    for key, path in (("mlm_logits", args.out), ("hidden", args.hidden), ("pooled", args.pooled),
                      ("nsp_logits", args.nsp)):
        if path:
            np.save(path, out[key].numpy().astype(np.float32))
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
    f.add_argument("--mask")
    f.add_argument("--types")
    f.add_argument("--out")
    f.add_argument("--hidden")
    f.add_argument("--pooled")
    f.add_argument("--nsp")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.cmd == "generate":
        return cmd_generate(args)
    if args.cmd == "verify":
        return verify(args.out_dir)
    return cmd_forward(args)


if __name__ == "__main__":
    sys.exit(main())
