#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/TARGET/ from the test
fixtures and small files made here (each under 4 KB). Run from the
repository root; the seeds are committed, so this is needed only to remake
them. Standard library only."""
import json
import os
import struct
import sys

ROOT = os.getcwd()
OUT = os.path.join(ROOT, "tests/fuzz/corpus")
SEP = b"\n#####\n"  # FUZZ_SEPARATOR in fuzz_util.h


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 4096, (target, name, len(data))
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)]"""
    header, data = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def f32(*v):
    return struct.pack("<%df" % len(v), *v)


def npy(descr, shape, raw):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, "".join("%d, " % d for d in shape) if len(shape) > 1 else "%d," % shape[0])
    h = h.encode()
    pad = -(10 + len(h) + 1) % 64
    h += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + raw


# --- configs ----------------------------------------------------------------
for name in sorted(os.listdir("configs")):
    p = os.path.join("configs", name)
    if name.endswith(".json") and os.path.getsize(p) < 4096:
        if not name.startswith("compare"):
            put("run_config", name, read(p))
for name in sorted(os.listdir("tests/fixtures/compat-0.1/configs")):
    put("run_config", "compat-" + name, read("tests/fixtures/compat-0.1/configs/" + name))
put("run_config", "extends.json",
    '{"extends": "base.json", "model": {"plugin": "bigram"}, "train": {"steps": 3}}')
put("run_config", "extends-set.json", '{"extends": "base.json", "data": {"val_fraction": 0.5},'
    ' "train": {"optimizer": {"name": "sgd", "lr": 0.1}, "schedule": {"name": "constant"}}}')

# comparisons, over the files fuzz_compare_config.c puts in its scratch directory
for name in ["compare-kjv.json", "compare-sst2.json", "compare-seed.json"]:
    c = json.loads(read("configs/" + name))
    c["data"] = {"train": "train.txt", "val": "val.txt"} if "val" in c["data"] else \
        {"train": "train.txt", "val_fraction": 0.05}
    for i, m in enumerate(c["models"]):
        m["config"] = "bigram.json" if i % 2 == 0 else "gpt.json"
    for p in c.get("probes", []):
        p["train"] = p["test"] = "probe.tsv"
    put("compare_config", name, json.dumps(c, indent=1))

# --- registries: the shipped manifests, as a registry and as themselves -----
manifests = []
for name in sorted(os.listdir("plugins")):
    p = os.path.join("plugins", name, name + ".json")
    if os.path.exists(p):
        m = json.loads(read(p))
        manifests.append(m)
        put("registry", "manifest-" + name + ".json", read(p))
put("registry", "registry-bigram.json",
    json.dumps({"format": 1, "plugins": [manifests[[m["name"] for m in manifests].index("bigram")]]},
               indent=1))
put("registry", "registry-pinned.json", json.dumps({"format": 1, "plugins": [
    {"name": "x", "version": "1.0.0", "summary": "s", "abi": "1.3", "library": "x.so",
     "sha256": "0" * 64, "tokenizers": ["bytes"],
     "exports": [{"name": "f", "symbol": "x_f", "returns": "double", "args": ["model", "string"]}]}]}))

# --- safetensors and checkpoints ---------------------------------------------
put("safetensors", "f32.safetensors",
    safetensors([("a", "F32", [2, 3], f32(1, 2, 3, 4, 5, 6)), ("b", "F32", [], f32(7))],
                {"format": "pt"}))
put("safetensors", "dtypes.safetensors", safetensors([
    ("bf16", "BF16", [2], b"\x80\x3f\x00\x40"), ("f16", "F16", [2], b"\x00\x3c\x00\x40"),
    ("f64", "F64", [1], struct.pack("<d", 1.5)), ("i32", "I32", [2], struct.pack("<2i", -1, 7)),
    ("i64", "I64", [1], struct.pack("<q", 5)), ("u8", "U8", [3], b"\x01\x02\x03"),
    ("empty", "F32", [0, 4], b"")]))
put("safetensors", "5d.safetensors", safetensors([("t", "F32", [1, 1, 1, 1, 2], f32(1, 2))]))

tok_char = {"version": 1, "type": "char", "special": {"unk": 0},
            "model": {"lowercase": False, "specials": ["[UNK]"],
                      "code_points": [10, 32, 97, 98, 99, 233, 20013]}}
# the real form of each type, from the fixture checkpoints' metadata
tokenizers = {}
for run in sorted(os.listdir("tests/fixtures/compat-0.1/runs")):
    raw = read("tests/fixtures/compat-0.1/runs/%s/latest.safetensors" % run)
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n]).get("__metadata__", {})
    if "zoo.tokenizer" in meta:
        tokenizers[run] = meta["zoo.tokenizer"]
        if len(meta["zoo.tokenizer"]) < 4096:
            put("tokenizer_json", run + ".json", meta["zoo.tokenizer"])
    if run == "bigram" and "zoo.config" in meta:
        bigram_config = meta["zoo.config"]
for name, t in tokenizers.items():
    print("tokenizer of %s: %d bytes, type %s" % (name, len(t), json.loads(t)["type"]),
          file=sys.stderr)
put("tokenizer_json", "char.json", json.dumps(tok_char))

meta = {"zoo.format": "1", "zoo.plugin": "bigram",
        "zoo.config": bigram_config, "zoo.tokenizer": json.dumps(tok_char), "zoo.step": "2", "zoo.rng": "0123456789abcdef" * 4,
        "zoo.data_cursor": "0 0", "zoo.elapsed": "0.5", "zoo.tokens": "64"}
w, b = f32(*range(12)), f32(1, 2, 3)
put("checkpoint", "params.safetensors",
    safetensors([("b", "F32", [3], b), ("w", "F32", [4, 3], w)], meta))
put("checkpoint", "optim.safetensors", safetensors(
    [("b", "F32", [3], b), ("optim.b.m", "F32", [3], b), ("optim.b.v", "F32", [3], b),
     ("optim.w.m", "F32", [4, 3], w), ("optim.w.v", "F32", [4, 3], w), ("w", "F32", [4, 3], w)],
    meta))

# --- .npy --------------------------------------------------------------------
put("npy", "f4.npy", npy("<f4", [2, 3], f32(1, 2, 3, 4, 5, 6)))
put("npy", "i4.npy", npy("<i4", [4], struct.pack("<4i", 1, 2, 3, 4)))
put("npy", "4d.npy", npy("<f4", [1, 2, 1, 2], f32(1, 2, 3, 4)))
put("npy", "pooled.npy", read("plugins/bert/tests/fixtures/bert-tiny/pooled.npy"))

# --- word vectors --------------------------------------------------------------
words = ["the", "king", "queen", "man", "woman", "é", "中"]
vecs = [[((i * 7 + j * 3) % 11 - 5) / 4 for j in range(4)] for i in range(len(words))]
put("word2vec_text", "small.txt",
    "%d 4\n" % len(words) + "".join(w + " " + " ".join("%g" % x for x in v) + "\n"
                                    for w, v in zip(words, vecs)))
put("word2vec_text", "fasttext.vec", "2 3\nab 0.1 0.2 0.3 \ncd -1e-3 2 3.5 \n")
put("word2vec_bin", "small.bin",
    b"%d 4\n" % len(words) + b"".join(w.encode() + b" " + f32(*v) + b"\n"
                                      for w, v in zip(words, vecs)))
put("word2vec_bin", "nonl.bin", b"2 2\na " + f32(1, 2) + b"b " + f32(3, 4))

# --- GPT-2 files: the fixture's vocab.json (256 bytes and merges) --------------
gpt_vocab, gpt_merges = (read("tests/fixtures/compat-0.1/gpt-hf/vocab.json"),
                         read("tests/fixtures/compat-0.1/gpt-hf/merges.txt"))
put("gpt2", "compat-gpt-hf", gpt_vocab + SEP + gpt_merges)
vocab = json.loads(gpt_vocab)
put("gpt2", "no-merges", json.dumps(
    {k: v for k, v in sorted(vocab.items(), key=lambda kv: kv[1])[:256]}, ensure_ascii=False)
    .encode() + SEP + b"#version: 0.2\n")

# --- WordPiece ---------------------------------------------------------------
put("wordpiece", "bert-tiny.txt", read("plugins/bert/tests/fixtures/bert-tiny/vocab.txt"))
put("wordpiece", "cased.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nThe\nthe\n##s\ncaf\n##é\n中\n,\r\n!\n")

# --- HuggingFace config.json -------------------------------------------------------
put("hf_config", "gpt2.json", read("tests/fixtures/compat-0.1/gpt-hf/config.json"))
put("hf_config", "bert.json", read("plugins/bert/tests/fixtures/bert-tiny/config.json"))
put("hf_config", "legacy.json", '{"n_positions": 64, "n_embd": 32, "resid_pdrop": 0.0, '
    '"activation_function": "gelu_new", "bias": true, "_name_or_path": "x"}')

# --- corpora (first byte: bit 0 replace invalid UTF-8, bit 1 lines) ------------
text = read("tests/fixtures/compat-0.1/corpus.txt")[:1500]
put("corpus", "text", b"\x00" + text)
put("corpus", "two-files-lines", b"\x02" + text[:700] + SEP + text[700:1400])
put("corpus", "invalid-replaced", b"\x03caf\xc3\xa9 \xf0\x9f na\xefve\r\n\xe4\xb8\xad\n" + SEP + b"x\n")

# --- labeled examples (first byte: format tsv/sst/trec, bit 2 replace) --------
put("labeled", "tsv", b"\x00pos\tA fine film .\nneg\tdull\r\n\nneg\tcaf\xc3\xa9\n")
put("labeled", "sst", b"\x011 a gorgeous , witty film\n0 too long\n1 \xe4\xb8\xad\n")
put("labeled", "trec", b"\x02DESC:manner How did serfdom develop ?\nNUM:date When ?\nLOC:city Where ?\n")
put("labeled", "replace", b"\x06HUM:ind Who is \xf0 ?\nHUM:gr Which team ?\n")

# --- elmo: options.json, vocab.txt, edits of the fixture's weights.hdf5 -------
opts_a = read("plugins/elmo/tests/fixtures/elmo-tiny-a/options.json")
opts_b = read("plugins/elmo/tests/fixtures/elmo-tiny-b/options.json")
put("elmo", "tiny-a", opts_a + SEP + SEP)
put("elmo", "tiny-b", opts_b + SEP + SEP)
put("elmo", "tiny-a-vocab", opts_a + SEP + b"<S>\n</S>\r\n<UNK>\nthe \n\tbank\nBank" + SEP)
# a dataset of another shape, one of integers, one deleted
put("elmo", "tiny-a-edits", opts_a + SEP + SEP + bytes([0, 5, 1, 7, 3, 2, 0, 0, 5, 0, 0, 0]))
