#!/usr/bin/env python3
"""The malformed-file corpus: one small file (or directory) per failure mode
of every parser zoo runs on files other people made, and the manifest
expected.tsv that says how zoo must answer each.

    python3 tests/malformed/make.py        # rewrites the corpus beside this script

Every case is made here from scratch (Python's standard library only), so the
committed files can be rebuilt and read. The manifest's columns, tab-separated:

    FILE  COMMAND  EXIT  REGEX

COMMAND is run from this directory ("zoo" is the zoo under test, "npy_read"
the test helper that reads a .npy as the host does); EXIT is its exit status;
REGEX (grep -E) must match the one line zoo writes to standard error, which
names the file, the field and what is wrong. tests/cli/test_malformed.sh runs
every row. The few cases that need a valid base (a checkpoint, a HuggingFace
directory, a corpus) share the ones under base/.
"""
import json
import os
import shutil
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
rows = []  # (file, command, exit, regex)


def write(rel, data):
    path = os.path.join(HERE, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)


def case(rel, command, code, regex):
    """A row of the manifest; COMMAND's FILE is rel."""
    assert "\t" not in command + regex
    rows.append((rel, command.replace("FILE", rel), str(code), regex))


def f32(values):
    return struct.pack("<%df" % len(values), *values)


def safetensors(tensors, meta=None, header=None):
    """tensors: [(name, dtype, shape, bytes)], laid out in order. header, when
    given, is written as the header's text instead of the one made."""
    h = {}
    if meta is not None:
        h["__metadata__"] = meta
    off, data = 0, b""
    for name, dtype, shape, raw in tensors:
        h[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        data += raw
    text = header if header is not None else json.dumps(h)
    hb = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(hb)) + hb + data


def raw_header(obj):
    return json.dumps(obj)


# --- a bigram checkpoint of 5 tokens (char tokenizer: [UNK], ' ', a, b, c) ---

CHAR_TOK = {"version": 1, "type": "char", "special": {"unk": 0},
            "model": {"lowercase": False, "specials": ["[UNK]"], "code_points": [32, 97, 98, 99]}}
CKPT_CONFIG = {"model": {"plugin": "bigram", "vocab_size": 5},
               "data": {"train": "corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 8},
               "train": {"steps": 1, "batch_size": 1}}


def ckpt_meta(tokenizer=CHAR_TOK, config=CKPT_CONFIG, **extra):
    m = {"zoo.format": "1", "zoo.plugin": "bigram", "zoo.step": "0", "zoo.rng": "0" * 64,
         "zoo.config": config if isinstance(config, str) else json.dumps(config),
         "zoo.tokenizer": tokenizer if isinstance(tokenizer, str) else json.dumps(tokenizer)}
    m.update(extra)
    return m


LOGITS = [0.01 * i for i in range(25)]


def checkpoint(tensors=None, **meta):
    if tensors is None:
        tensors = [("logits.weight", "F32", [5, 5], f32(LOGITS))]
    return safetensors(tensors, ckpt_meta(**meta))


# --- safetensors: the container, read through a checkpoint (zoo info) -----

def safetensors_cases():
    d = "safetensors"
    info = "zoo info FILE"
    write("base/ckpt.safetensors", checkpoint())
    good = checkpoint()
    n = struct.unpack("<Q", good[:8])[0]

    def c(name, data, regex):
        write(f"{d}/{name}.safetensors", data)
        case(f"{d}/{name}.safetensors", info, 1, regex)

    c("empty", b"", r'^zoo info: safetensors/empty\.safetensors: not a safetensors file: 0 bytes, fewer than the 8 of its header length$')
    c("short", b"\x10\x00\x00", r'^zoo info: safetensors/short\.safetensors: not a safetensors file: 3 bytes, fewer than the 8 of its header length$')
    c("header_past_end", struct.pack("<Q", n + 100) + good[8:8 + n], r'^zoo info: safetensors/header_past_end\.safetensors: truncated: the header says 728 bytes, the file has 628 after its length$')
    c("header_length_huge", struct.pack("<Q", 1 << 62) + good[8:], r'^zoo info: safetensors/header_length_huge\.safetensors: not a safetensors file: its first 8 bytes give a header of 4611686018427387904 bytes, more than the 100000000 safetensors allows$')
    c("truncated_data", good[:-7], r"^zoo info: safetensors/truncated_data\.safetensors: truncated: tensor 'logits\.weight' ends at byte 100 of the data buffer, which has 93$")
    c("header_not_json", safetensors([], header="{\"logits.weight\": {\"dtype\": "), r'^zoo info: safetensors/header_not_json\.safetensors: the header is not valid JSON \(at byte 28 of 28\)$')
    c("header_not_object", safetensors([], header="[1, 2, 3]"), r'^zoo info: safetensors/header_not_object\.safetensors: the header is not a JSON object but an array$')
    c("header_invalid_utf8",
      safetensors([], header=b'{"__metadata__": {"zoo.plugin": "bi\xffgram"}}'), r'^zoo info: safetensors/header_invalid_utf8\.safetensors: the header is not valid UTF-8 \(byte 35 of 43\)$')
    c("header_nul", safetensors([], header=b'{"a\x00": 1}'), r'^zoo info: safetensors/header_nul\.safetensors: the header is not valid JSON: control character 0x00 at byte 3$')
    meta = ckpt_meta()

    def tensor_header(entry, name="logits.weight"):
        h = {"__metadata__": meta, name: entry}
        return json.dumps(h)

    body = f32(LOGITS)
    c("dtype_unknown", safetensors([], header=tensor_header(
        {"dtype": "F33", "shape": [5, 5], "data_offsets": [0, 100]})) + body, '^zoo info: safetensors/dtype_unknown\\.safetensors: tensor \'logits\\.weight\': unknown dtype "F33"$')
    c("dtype_wrong_for_name", safetensors([], header=tensor_header(
        {"dtype": "I32", "shape": [5, 5], "data_offsets": [0, 100]})) + body, r"^zoo info: safetensors/dtype_wrong_for_name\.safetensors: tensor 'logits\.weight' is I32; float32 can be read from F32, F16, BF16 and F64$")
    c("dtype_not_string", safetensors([], header=tensor_header(
        {"dtype": 32, "shape": [5, 5], "data_offsets": [0, 100]})) + body, r"^zoo info: safetensors/dtype_not_string\.safetensors: tensor 'logits\.weight': dtype must be a string, found a number$")
    c("shape_overflow", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [1 << 32, 1 << 32, 5], "data_offsets": [0, 100]})) + body, r"^zoo info: safetensors/shape_overflow\.safetensors: tensor 'logits\.weight': shape \[4294967296,4294967296,5\] has too many elements$")
    c("shape_negative", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [-5, -5], "data_offsets": [0, 100]})) + body, r"^zoo info: safetensors/shape_negative\.safetensors: tensor 'logits\.weight': shape must be an array of integers >= 0, found an invalid number in it$")
    c("shape_fraction", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [5, 5.5], "data_offsets": [0, 100]})) + body, r"^zoo info: safetensors/shape_fraction\.safetensors: tensor 'logits\.weight': shape must be an array of integers >= 0, found an invalid number in it$")
    c("shape_zero", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [0, 5], "data_offsets": [0, 0]})), r"^zoo info: safetensors/shape_zero\.safetensors: tensor 'logits\.weight' has shape \[0,5\], the model expects \[5,5\]$")
    c("shape_wrong_for_name", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [4, 5], "data_offsets": [0, 80]})) + body[:80], r"^zoo info: safetensors/shape_wrong_for_name\.safetensors: tensor 'logits\.weight' has shape \[4,5\], the model expects \[5,5\]$")
    c("shape_too_many_dims", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [1, 1, 1, 1, 1, 1, 1, 1, 1, 5, 5], "data_offsets": [0, 100]}))
      + body, r"^zoo info: safetensors/shape_too_many_dims\.safetensors: tensor 'logits\.weight' has 11 dimensions, more than zoo's 4$")
    c("offsets_past_end", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [5, 5], "data_offsets": [0, 1 << 40]})) + body, r"^zoo info: safetensors/offsets_past_end\.safetensors: tensor 'logits\.weight': shape \[5,5\] of F32 needs 100 bytes, data_offsets give 1099511627776$")
    c("offsets_reversed", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [5, 5], "data_offsets": [100, 0]})) + body, r"^zoo info: safetensors/offsets_reversed\.safetensors: tensor 'logits\.weight': data_offsets must be \[begin, end\], integers with 0 <= begin <= end$")
    c("offsets_size_mismatch", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [5, 5], "data_offsets": [0, 96]})) + body, r"^zoo info: safetensors/offsets_size_mismatch\.safetensors: tensor 'logits\.weight': shape \[5,5\] of F32 needs 100 bytes, data_offsets give 96$")
    c("offsets_missing", safetensors([], header=tensor_header(
        {"dtype": "F32", "shape": [5, 5]})) + body, r"^zoo info: safetensors/offsets_missing\.safetensors: tensor 'logits\.weight': no data_offsets$")
    h = {"__metadata__": meta,
         "logits.weight": {"dtype": "F32", "shape": [5, 5], "data_offsets": [0, 100]},
         "extra": {"dtype": "F32", "shape": [5], "data_offsets": [80, 100]}}
    c("offsets_overlap", safetensors([], header=json.dumps(h)) + body, r"^zoo info: safetensors/offsets_overlap\.safetensors: tensors 'logits\.weight' and 'extra' overlap: bytes \[0,100\) and \[80,100\)$")
    dup = ('{"__metadata__": %s, "logits.weight": {"dtype": "F32", "shape": [5, 5], '
           '"data_offsets": [0, 100]}, "logits.weight": {"dtype": "F32", "shape": [5, 5], '
           '"data_offsets": [100, 200]}}' % json.dumps(meta))
    c("duplicate_tensor", safetensors([], header=dup) + body + body, r"^zoo info: safetensors/duplicate_tensor\.safetensors: tensor 'logits\.weight' appears twice in the header$")
    c("tensor_missing", checkpoint(tensors=[("other", "F32", [5, 5], body)]), r"^zoo info: safetensors/tensor_missing\.safetensors: tensor 'logits\.weight' is missing$")
    c("nan_weight", checkpoint(tensors=[("logits.weight", "F32", [5, 5],
                                         f32(LOGITS[:7] + [float("nan")] + LOGITS[8:]))]), r"^zoo info: safetensors/nan_weight\.safetensors: tensor 'logits\.weight': element 7 is NaN; a model's weights must be finite$")
    c("inf_weight", checkpoint(tensors=[("logits.weight", "F32", [5, 5],
                                         f32(LOGITS[:3] + [float("inf")] + LOGITS[4:]))]), r"^zoo info: safetensors/inf_weight\.safetensors: tensor 'logits\.weight': element 3 is infinite; a model's weights must be finite$")
    m = dict(meta)
    m["zoo.step"] = 7
    c("metadata_not_string", safetensors([("logits.weight", "F32", [5, 5], body)], m), r"^zoo info: safetensors/metadata_not_string\.safetensors: __metadata__ 'zoo\.step': values must be strings, found a number$")
    c("plugin_unknown", checkpoint(**{"zoo.plugin": "nosuchplugin"}), r"^zoo info: safetensors/plugin_unknown\.safetensors: zoo\.plugin: no plugin named 'nosuchplugin'; looked in")
    c("format_unknown", checkpoint(**{"zoo.format": "99"}), r'^zoo info: safetensors/format_unknown\.safetensors: zoo\.format is "99", this zoo reads "1"$')
    c("step_negative", checkpoint(**{"zoo.step": "-3"}), r'^zoo info: safetensors/step_negative\.safetensors: zoo\.step: expected a non-negative integer$')
    c("config_not_json", checkpoint(config="{\"model\": "), r'^zoo info: safetensors/config_not_json\.safetensors: zoo\.config: safetensors/config_not_json\.safetensors/zoo\.config:1:11: malformed JSON$')
    cfg = json.loads(json.dumps(CKPT_CONFIG))
    cfg["model"]["vocab_size"] = 6
    c("config_vocab_mismatch", checkpoint(config=cfg), r"^zoo info: safetensors/config_vocab_mismatch\.safetensors: tensor 'logits\.weight' has shape \[5,5\], the model expects \[6,6\]$")


# --- the tokenizer JSON a checkpoint holds (zoo tokenize) ---------------------

def tokenizer_json_cases():
    d = "tokenizer_json"
    cmd = "zoo tokenize FILE --text abc"

    def c(name, tok, regex, **kw):
        write(f"{d}/{name}.safetensors", checkpoint(tokenizer=tok, **kw))
        case(f"{d}/{name}.safetensors", cmd, 1, regex)

    def char(**model):
        t = json.loads(json.dumps(CHAR_TOK))
        t["model"].update(model)
        return t

    c("not_json", '{"version": 1, "type": ', r'^zoo tokenize: tokenizer_json/not_json\.safetensors: zoo\.tokenizer: tokenizer JSON: not valid JSON \(at byte 23\)$')
    c("not_object", "[1, 2]", r'^zoo tokenize: tokenizer_json/not_object\.safetensors: zoo\.tokenizer: tokenizer JSON: expected an object$')
    c("type_missing", {"version": 1, "special": {"unk": 0}, "model": CHAR_TOK["model"]}, r"^zoo tokenize: tokenizer_json/type_missing\.safetensors: zoo\.tokenizer: tokenizer JSON: 'type' must be a string$")
    c("type_unknown", dict(CHAR_TOK, type="sentencepiece"), '^zoo tokenize: tokenizer_json/type_unknown\\.safetensors: zoo\\.tokenizer: unknown tokenizer type \'sentencepiece\' \\(known: char, word, gpt2, wordpiece\\); no plugin in the registry declares it \\(an entry\'s "tokenizers"\\)$')
    c("version_unknown", dict(CHAR_TOK, version=7), r"^zoo tokenize: tokenizer_json/version_unknown\.safetensors: zoo\.tokenizer: tokenizer JSON: 'version' must be 1$")
    c("model_not_object", dict(CHAR_TOK, model=[1]), r"^zoo tokenize: tokenizer_json/model_not_object\.safetensors: zoo\.tokenizer: tokenizer JSON: 'model' must be an object$")
    c("code_points_not_array", char(code_points="abc"), r'^zoo tokenize: tokenizer_json/code_points_not_array\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points: unknown key or wrong type \(char knows lowercase: bool, specials, code_points, counts: arrays\)$')
    c("code_point_out_of_range", char(code_points=[32, 97, 98, 0x110000]), r'^zoo tokenize: tokenizer_json/code_point_out_of_range\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: not a Unicode scalar value \(an integer in \[0, 0x10FFFF\], not a surrogate\)$')
    c("code_point_huge", char(code_points=[32, 97, 98, 1e300]), r'^zoo tokenize: tokenizer_json/code_point_huge\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: not a Unicode scalar value \(an integer in \[0, 0x10FFFF\], not a surrogate\)$')
    c("code_point_negative", char(code_points=[32, 97, 98, -1]), r'^zoo tokenize: tokenizer_json/code_point_negative\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: not a Unicode scalar value \(an integer in \[0, 0x10FFFF\], not a surrogate\)$')
    c("code_point_fraction", char(code_points=[32, 97, 98, 99.5]), r'^zoo tokenize: tokenizer_json/code_point_fraction\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: not a Unicode scalar value \(an integer in \[0, 0x10FFFF\], not a surrogate\)$')
    c("code_point_surrogate", char(code_points=[32, 97, 98, 0xD800]), r'^zoo tokenize: tokenizer_json/code_point_surrogate\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: not a Unicode scalar value \(an integer in \[0, 0x10FFFF\], not a surrogate\)$')
    c("code_point_duplicate", char(code_points=[32, 97, 98, 97]), r'^zoo tokenize: tokenizer_json/code_point_duplicate\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.code_points\[3\]: U\+0061 is not above the previous one, U\+0062 \(they are sorted, each once\)$')
    c("special_out_of_range", dict(CHAR_TOK, special={"unk": 1 << 40}), r'^zoo tokenize: tokenizer_json/special_out_of_range\.safetensors: zoo\.tokenizer: tokenizer JSON: special\.unk: expected an id in \[0, 5\)$')
    c("special_role_unknown", dict(CHAR_TOK, special={"unk": 0, "boss": 1}), r'^zoo tokenize: tokenizer_json/special_role_unknown\.safetensors: zoo\.tokenizer: tokenizer JSON: special\.boss: unknown role \(known: unk, pad, mask, cls, sep, bos, eos\)$')
    c("special_not_integer", dict(CHAR_TOK, special={"unk": "0"}), r'^zoo tokenize: tokenizer_json/special_not_integer\.safetensors: zoo\.tokenizer: tokenizer JSON: special\.unk: expected an id in \[0, 5\)$')
    # one token more than the model's vocab_size (the out-of-bounds read)
    c("more_tokens_than_model", char(code_points=[32, 97, 98, 99, 100]), r"^zoo tokenize: tokenizer_json/more_tokens_than_model\.safetensors: zoo\.tokenizer has 6 tokens, more than the model's vocab_size of 5$")
    wp = {"version": 1, "type": "wordpiece", "special": {"unk": 0},
          "model": {"lowercase": True, "max_chars": 100, "vocab": ["[UNK]", "a", "b", "c", "a"]}}
    c("wordpiece_duplicate", wp, r'^zoo tokenize: tokenizer_json/wordpiece_duplicate\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.vocab\[4\]: "a" is also at 1$')
    wp2 = json.loads(json.dumps(wp))
    wp2["model"]["vocab"] = ["[UNK]", "a", "b", "c", "##\xff"]
    c("wordpiece_max_chars_huge", dict(wp, model=dict(wp["model"], max_chars=1e300,
                                                       vocab=["[UNK]", "a", "b", "c", "d"])), r'^zoo tokenize: tokenizer_json/wordpiece_max_chars_huge\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.max_chars: expected a count >= 1$')
    word = {"version": 1, "type": "word", "special": {"unk": 0},
            "model": {"lowercase": False, "split": "sideways", "tokens": ["[UNK]", "a", "b", "c", "d"]}}
    c("word_split_unknown", word, r"^zoo tokenize: tokenizer_json/word_split_unknown\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.split: expected whitespace or punctuation, got 'sideways'$")
    word2 = json.loads(json.dumps(word))
    word2["model"]["split"] = "whitespace"
    word2["model"]["counts"] = [1, 2, 3, 4, 1e300]
    c("word_count_huge", word2, r'^zoo tokenize: tokenizer_json/word_count_huge\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.counts\[4\]: not a count$')
    chars = bytes_to_unicode()
    spellings = [chars[b] for b in range(256)] + ["ab"]
    g = {"version": 1, "type": "gpt2", "special": {},
         "model": {"vocab": spellings, "merges": ["a b", "ab x"]}}
    c("gpt2_merge_unknown", g, r'^zoo tokenize: tokenizer_json/gpt2_merge_unknown\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.merges\[1\]: the merged token "abx" is not in the vocabulary$')
    c("gpt2_vocab_duplicate", dict(g, model={"vocab": spellings + ["a"], "merges": ["a b"]}), r'^zoo tokenize: tokenizer_json/gpt2_vocab_duplicate\.safetensors: zoo\.tokenizer: tokenizer JSON: model\.vocab\[257\]: "a" is also at 97$')


# --- a GPT-2 HuggingFace directory (zoo info DIR) ------------------------------

GPT_CONFIG = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"],
              "n_layer": 1, "n_head": 1, "n_embd": 4, "n_positions": 4, "vocab_size": 6,
              "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}


def gpt_tensors(cfg=GPT_CONFIG):
    V, C, T = cfg["vocab_size"], cfg["n_embd"], cfg["n_positions"]
    t = [("transformer.wte.weight", [V, C]), ("transformer.wpe.weight", [T, C])]
    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        t += [(p + "ln_1.weight", [C]), (p + "ln_1.bias", [C]),
              (p + "attn.c_attn.weight", [C, 3 * C]), (p + "attn.c_attn.bias", [3 * C]),
              (p + "attn.c_proj.weight", [C, C]), (p + "attn.c_proj.bias", [C]),
              (p + "ln_2.weight", [C]), (p + "ln_2.bias", [C]),
              (p + "mlp.c_fc.weight", [C, 4 * C]), (p + "mlp.c_fc.bias", [4 * C]),
              (p + "mlp.c_proj.weight", [4 * C, C]), (p + "mlp.c_proj.bias", [C])]
    t += [("transformer.ln_f.weight", [C]), ("transformer.ln_f.bias", [C])]
    out = []
    for name, shape in t:
        n = 1
        for s in shape:
            n *= s
        out.append((name, "F32", shape, f32([0.01 * (k % 7) for k in range(n)])))
    return out


def hf_dir(rel, config, tensors, text_config=None):
    cfg = text_config if text_config is not None else json.dumps(config, indent=1)
    write(f"{rel}/config.json", cfg)
    write(f"{rel}/model.safetensors", safetensors(tensors, {"format": "pt"}))


def hf_cases():
    d = "hf_config"
    cmd = "zoo info FILE"
    hf_dir("base/gpt2", GPT_CONFIG, gpt_tensors())

    def c(name, regex, config=None, tensors=None, text=None, code=1):
        cfg = dict(GPT_CONFIG, **(config or {}))
        hf_dir(f"{d}/{name}", cfg, tensors if tensors is not None else gpt_tensors(), text)
        case(f"{d}/{name}", cmd, code, regex)

    c("empty", r'^zoo info: hf_config/empty/config\.json:1:1: malformed JSON$', text="")
    c("not_json", r'^zoo info: hf_config/not_json/config\.json:1:24: malformed JSON$', text='{"model_type": "gpt2", ')
    c("not_object", r'^zoo info: hf_config/not_object/config\.json: not a JSON object$', text="[]")
    c("invalid_utf8", r'^zoo info: hf_config/invalid_utf8/config\.json:1: invalid UTF-8 \(byte 0xFF at offset 19\)$', text=b'{"model_type": "gpt\xff2"}')
    c("model_type_unknown", r'^zoo info: hf_config/model_type_unknown: no plugin imports this directory: it is not a zoo run \(no latest\.safetensors\), and no plugin that imports models \(bert, elmo, gpt\) reads its files$', config={"model_type": "nosuchmodel"})
    c("n_layer_string", r'^zoo info: hf_config/n_layer_string/config\.json: n_layer: expected a number$', config={"n_layer": "1"})
    c("n_layer_fraction", r'^zoo info: hf_config/n_layer_fraction/config\.json: n_layer: expected an integer >= 1, got 1\.5$', config={"n_layer": 1.5})
    c("n_layer_zero", r'^zoo info: hf_config/n_layer_zero/config\.json: n_layer: expected an integer >= 1, got 0$', config={"n_layer": 0})
    c("n_layer_negative", r'^zoo info: hf_config/n_layer_negative/config\.json: n_layer: expected an integer >= 1, got -1$', config={"n_layer": -1})
    c("n_layer_huge", r'^zoo info: hf_config/n_layer_huge/config\.json: n_layer: expected an integer >= 1, got 1\.0000000000000001e\+300$', config={"n_layer": 1e300})
    c("n_layer_100000", r"^zoo info: hf_config/n_layer_100000/model\.safetensors: tensor 'transformer\.h\.1\.ln_1\.weight' \(or 'h\.1\.ln_1\.weight'\) is missing$", config={"n_layer": 100000})
    c("n_embd_zero", r'^zoo info: hf_config/n_embd_zero/config\.json: n_embd: expected an integer >= 1, got 0$', config={"n_embd": 0})
    c("n_head_not_dividing", "^zoo info: hf_config/n_head_not_dividing: plugin 'gpt' could not create a model: gpt: n_embd 4 is not divisible by n_head 3$", config={"n_head": 3})
    c("vocab_2_40", r"^zoo info: hf_config/vocab_2_40: plugin 'gpt' could not create a model: gpt: 1 layers of width 4 needs 16\.0 TiB of parameters: more than this machine's available memory \([0-9.]+ [KMGT]iB\)$", config={"vocab_size": 1 << 40})
    c("width_absurd", r"^zoo info: hf_config/width_absurd: plugin 'gpt' could not create a model: gpt: 1 layers of width 1048576 needs 48\.0 TiB of parameters: more than this machine's available memory \([0-9.]+ [KMGT]iB\)$", config={"n_embd": 1 << 20, "n_head": 1})
    c("epsilon_negative", r'^zoo info: hf_config/epsilon_negative/config\.json: layer_norm_epsilon: expected a number >= 0, got -1$', config={"layer_norm_epsilon": -1})
    t = gpt_tensors()
    c("tensor_missing", r"^zoo info: hf_config/tensor_missing/model\.safetensors: tensor 'transformer\.ln_f\.bias' \(or 'ln_f\.bias'\) is missing$", tensors=[x for x in t if x[0] != "transformer.ln_f.bias"])
    c("tensor_wrong_shape", r"^zoo info: hf_config/tensor_wrong_shape/model\.safetensors: tensor 'transformer\.wte\.weight' has shape \[5,4\], the model expects \[6,4\]$", tensors=[
        (n, dt, [5, 4] if n == "transformer.wte.weight" else s, f32([0.0] * 20) if n == "transformer.wte.weight" else r)
        for n, dt, s, r in t])
    c("tensor_wrong_dtype", r"^zoo info: hf_config/tensor_wrong_dtype/model\.safetensors: tensor 'transformer\.ln_f\.bias' is I32; float32 can be read from F32, F16, BF16 and F64$", tensors=[
        (n, "I32" if n == "transformer.ln_f.bias" else dt, s, r) for n, dt, s, r in t])
    c("tensor_nan", r"^zoo info: hf_config/tensor_nan/model\.safetensors: tensor 'transformer\.ln_f\.bias': element 0 is NaN; a model's weights must be finite$", tensors=[
        (n, dt, s, f32([float("nan")] * 4) if n == "transformer.ln_f.bias" else r)
        for n, dt, s, r in t])
    c("tensor_vocab_mismatch", r"^zoo info: hf_config/tensor_vocab_mismatch/model\.safetensors: tensor 'transformer\.wte\.weight' has shape \[6,4\], the model expects \[7,4\]$", config={"vocab_size": 7})
    # GPT-2's 258-token files beside a model of 6 tokens: ids past its embeddings
    c("tokenizer_bigger", "^zoo info: hf_config/tokenizer_bigger: its tokenizer has 258 tokens, more than the model's vocab_size of 6$")
    write(f"{d}/tokenizer_bigger/vocab.json", json.dumps(gpt2_vocab()))
    write(f"{d}/tokenizer_bigger/merges.txt", "#version: 0.2\na b\n")


# --- GPT-2's vocab.json + merges.txt, BERT's vocab.txt (zoo tokenize DIR) ----

def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1))
          + list(range(ord("\xae"), ord("\xff") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def gpt2_vocab():
    chars = bytes_to_unicode()
    v = {chars[b]: i for i, b in enumerate(sorted(chars, key=lambda b: ord(chars[b])))}
    v["ab"] = len(v)
    v["<|endoftext|>"] = len(v)
    return v


def tokenizer_file_cases():
    d = "gpt2_files"
    cmd = "zoo tokenize FILE --text abc"
    vocab = gpt2_vocab()
    merges = "#version: 0.2\na b\n"
    write("base/gpt2-tok/vocab.json", json.dumps(vocab))
    write("base/gpt2-tok/merges.txt", merges)

    def c(name, regex, vocab_text=None, merges_text=merges):
        write(f"{d}/{name}/vocab.json", vocab_text if vocab_text is not None else json.dumps(vocab))
        if merges_text is not None:
            write(f"{d}/{name}/merges.txt", merges_text)
        case(f"{d}/{name}", cmd, 1, regex)

    c("vocab_empty", r'^zoo tokenize: gpt2_files/vocab_empty/vocab\.json: not valid JSON \(at byte 0\)$', vocab_text="")
    c("vocab_not_object", r'^zoo tokenize: gpt2_files/vocab_not_object/vocab\.json: expected a JSON object of token → id$', vocab_text="[1, 2]")
    c("vocab_truncated", r'^zoo tokenize: gpt2_files/vocab_truncated/vocab\.json: not valid JSON \(at byte 200\)$', vocab_text=json.dumps(vocab)[:200])
    c("vocab_invalid_utf8", r'^zoo tokenize: gpt2_files/vocab_invalid_utf8/vocab\.json:1: invalid UTF-8 \(byte 0xFF at offset 3297\)$', vocab_text=json.dumps(vocab)[:-1].encode() + b', "\xff\xfe": 259}')
    c("vocab_id_string", r'^zoo tokenize: gpt2_files/vocab_id_string/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab="256")))
    c("vocab_id_negative", r'^zoo tokenize: gpt2_files/vocab_id_negative/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab=-1)))
    c("vocab_id_huge", r'^zoo tokenize: gpt2_files/vocab_id_huge/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab=1 << 40)))
    c("vocab_id_float_huge", r'^zoo tokenize: gpt2_files/vocab_id_float_huge/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab=1e300)))
    c("vocab_id_fraction", r'^zoo tokenize: gpt2_files/vocab_id_fraction/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab=256.5)))
    c("vocab_id_duplicate", r'^zoo tokenize: gpt2_files/vocab_id_duplicate/vocab\.json: "\$" and "ab" both have the id 3$', vocab_text=json.dumps(dict(vocab, ab=3)))
    c("vocab_id_gap", r'^zoo tokenize: gpt2_files/vocab_id_gap/vocab\.json: "ab": expected an id in \[0, 258\)$', vocab_text=json.dumps(dict(vocab, ab=300)))
    dense = [k for k in sorted(vocab, key=vocab.get) if k != "a"]
    c("vocab_missing_byte", r'^zoo tokenize: gpt2_files/vocab_missing_byte/vocab\.json: no token for the byte 0x61 \("a"\)$', vocab_text=json.dumps({k: i for i, k in enumerate(dense)}))
    c("vocab_duplicate_key", r'^zoo tokenize: gpt2_files/vocab_duplicate_key/vocab\.json: "ab" is listed twice$', vocab_text=json.dumps(vocab)[:-1] + ', "ab": 258}')
    c("merges_missing", r'^zoo tokenize: gpt2_files/merges_missing: no plugin reads a tokenizer from this directory \(gpt: found vocab\.json but not merges\.txt beside it\)$', merges_text=None)
    c("merges_one_token", r'^zoo tokenize: gpt2_files/merges_one_token/merges\.txt: line 2: expected two tokens separated by one space, got "ab"$', merges_text="#version: 0.2\nab\n")
    c("merges_unknown_token", r'^zoo tokenize: gpt2_files/merges_unknown_token/merges\.txt: line 3: "zz" is not in the vocabulary$', merges_text="#version: 0.2\na b\nab zz\n")
    c("merges_result_unknown", r'^zoo tokenize: gpt2_files/merges_result_unknown/merges\.txt: line 3: the merged token "bc" is not in the vocabulary$', merges_text="#version: 0.2\na b\nb c\n")
    c("merges_invalid_utf8", r'^zoo tokenize: gpt2_files/merges_invalid_utf8/merges\.txt:3: invalid UTF-8 \(byte 0xFF at offset 18\)$', merges_text=b"#version: 0.2\na b\n\xff b\n")
    c("merges_duplicate", r'^zoo tokenize: gpt2_files/merges_duplicate/merges\.txt: line 3: the merge "a b" is listed twice$', merges_text="#version: 0.2\na b\na b\n")

    d = "wordpiece_files"
    base = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\nb\nc\n##b\n##c\n"
    write("base/wordpiece-tok/vocab.txt", base)

    def w(name, regex, text):
        write(f"{d}/{name}/vocab.txt", text)
        case(f"{d}/{name}", cmd, 1, regex)

    w("empty", r'^zoo tokenize: wordpiece_files/empty/vocab\.txt: the vocabulary is empty$', "")
    w("invalid_utf8", r'^zoo tokenize: wordpiece_files/invalid_utf8/vocab\.txt: line 11 is not valid UTF-8$', base.encode() + b"d\xffe\n")
    w("duplicate_token", r'^zoo tokenize: wordpiece_files/duplicate_token/vocab\.txt: line 11: "a" is also line 6$', base + "a\n")
    w("no_unk", r'^zoo tokenize: wordpiece_files/no_unk/vocab\.txt: no \[UNK\] token \(WordPiece needs one for the words it cannot split\)$', base.replace("[UNK]\n", ""))
    w("nul_byte", r'^zoo tokenize: wordpiece_files/nul_byte/vocab\.txt: line 11 holds a NUL byte$', base.encode() + b"x\x00y\n")
    w("only_newlines", r'^zoo tokenize: wordpiece_files/only_newlines/vocab\.txt: line 2: "" is also line 1$', "\n\n\n")


# --- word2vec's text and binary formats (zoo similar FILE WORD) ---------------

def word2vec_cases():
    d = "word2vec"
    cmd = "zoo similar FILE a"
    rows_ = [("a", [1.0, 0.0, 0.5]), ("b", [0.0, 1.0, 0.5]), ("c", [1.0, 1.0, 0.0])]

    def text(rs, header=None):
        h = header if header is not None else f"{len(rs)} 3"
        return h + "\n" + "".join(w + " " + " ".join(repr(x) for x in v) + "\n" for w, v in rs)

    def binary(rs, header=None, cut=0):
        h = header if header is not None else f"{len(rs)} 3"
        b = (h + "\n").encode()
        for w_, v in rs:
            b += (w_.encode() if isinstance(w_, str) else w_) + b" " + f32(v) + b"\n"
        return b[:len(b) - cut] if cut else b

    write("base/vectors.txt", text(rows_))

    def c(name, data, regex, ext="txt"):
        write(f"{d}/{name}.{ext}", data)
        case(f"{d}/{name}.{ext}", cmd, 1, regex)

    c("empty", "", r'^zoo similar: word2vec/empty\.txt: line 1: expected a header "COUNT DIM"$')
    c("header_missing", "".join(w + " " + " ".join(map(str, v)) + "\n" for w, v in rows_), r'^zoo similar: word2vec/header_missing\.txt: line 1: expected a header "COUNT DIM"$')
    c("header_count_2_40", text(rows_, f"{1 << 40} 3"), r'^zoo similar: word2vec/header_count_2_40\.txt: 42 bytes cannot hold 1099511627776 text rows of dim 3$')
    c("header_dim_2_40", text(rows_, f"3 {1 << 40}"), r'^zoo similar: word2vec/header_dim_2_40\.txt: header: count 3 and dim 1099511627776 must be positive, dim at most 1048576$')
    c("header_count_overflow", text(rows_, "99999999999999999999999 3"), r'^zoo similar: word2vec/header_count_overflow\.txt: line 1: expected a header "COUNT DIM"$')
    c("header_dim_zero", text(rows_, "3 0"), r'^zoo similar: word2vec/header_dim_zero\.txt: header: count 3 and dim 0 must be positive, dim at most 1048576$')
    c("header_count_zero", text(rows_, "0 3"), r'^zoo similar: word2vec/header_count_zero\.txt: header: count 0 and dim 3 must be positive, dim at most 1048576$')
    c("header_negative", text(rows_, "-3 3"), r'^zoo similar: word2vec/header_negative\.txt: line 1: expected a header "COUNT DIM"$')
    c("fewer_rows", text(rows_[:2], "3 3"), r'^zoo similar: word2vec/fewer_rows\.txt: ends after 2 of 3 rows$')
    c("short_row", text(rows_[:2] + [("c", [1.0, 1.0])]), r'^zoo similar: word2vec/short_row\.txt: line 4 \("c"\): 2 numbers, expected 3$')
    c("long_row", text(rows_[:2] + [("c", [1.0, 1.0, 0.0, 2.0])]), r'^zoo similar: word2vec/long_row\.txt: line 4 \("c"\): more than 3 numbers$')
    c("number_garbage", text(rows_).replace("0.5", "0.5x", 1), r'^zoo similar: word2vec/number_garbage\.txt: line 2 \("a"\): number 3 does not parse$')
    c("number_nan", text(rows_).replace("0.5", "nan", 1), r'^zoo similar: word2vec/number_nan\.txt: line 2 \("a"\): number 3 of 3 is NaN; vectors must be finite$')
    c("number_inf", text(rows_).replace("0.5", "inf", 1), r'^zoo similar: word2vec/number_inf\.txt: line 2 \("a"\): number 3 of 3 is infinite; vectors must be finite$')
    c("number_overflow", text(rows_).replace("0.5", "1e999", 1), r'^zoo similar: word2vec/number_overflow\.txt: line 2 \("a"\): number 3 of 3 is infinite; vectors must be finite$')
    c("word_invalid_utf8", text(rows_).encode().replace(b"\nb ", b"\nb\xff ", 1), r'^zoo similar: word2vec/word_invalid_utf8\.txt: row 1: the word is empty or not valid UTF-8$')
    c("word_duplicate", text(rows_[:2] + [("a", [1.0, 1.0, 0.0])]), r'^zoo similar: word2vec/word_duplicate\.txt: duplicate word "a" in rows 0 and 2$')
    c("binary_truncated", binary(rows_, cut=5), r'^zoo similar: word2vec/binary_truncated\.bin: 40 bytes cannot hold 3 binary rows of dim 3$', "bin")
    c("binary_count_2_40", binary(rows_, f"{1 << 40} 3"), r'^zoo similar: word2vec/binary_count_2_40\.bin: 45 bytes cannot hold 1099511627776 binary rows of dim 3$', "bin")
    c("binary_dim_2_40", binary(rows_, f"3 {1 << 40}"), r'^zoo similar: word2vec/binary_dim_2_40\.bin: header: count 3 and dim 1099511627776 must be positive, dim at most 1048576$', "bin")
    c("binary_nan", binary(rows_[:2] + [("c", [1.0, float("nan"), 0.0])]), r'^zoo similar: word2vec/binary_nan\.bin: row 2 \("c"\): number 2 of 3 is NaN; vectors must be finite$', "bin")
    c("binary_word_invalid_utf8", binary([(b"a", [1.0, 0.0, 0.5]), (b"\xc3", [0.0, 1.0, 0.5]),
                                          (b"c", [1.0, 1.0, 0.0])]), r'^zoo similar: word2vec/binary_word_invalid_utf8\.bin: row 1: the word is empty or not valid UTF-8$', "bin")
    c("binary_no_word", binary(rows_)[:len("3 3\n")] + f32([1.0, 2.0, 3.0]) * 3, r'^zoo similar: word2vec/binary_no_word\.bin: 36 bytes cannot hold 3 binary rows of dim 3$', "bin")


# --- run configs (zoo train CONFIG --dry-run) and their JSON ------------------

RUN = {"model": {"plugin": "bigram"},
       "data": {"train": "../base/corpus.txt", "tokenizer": {"type": "char"}, "seq_len": 8},
       "train": {"steps": 2, "batch_size": 2, "threads": 1}}


def run_config_cases():
    write("base/corpus.txt", "abc abc cab bac\n" * 20)
    write("base/run.json", json.dumps(dict(RUN, data=dict(RUN["data"], train="corpus.txt"))))
    d = "json"
    cmd = "zoo train FILE --dry-run"

    def j(name, text, regex):
        write(f"{d}/{name}.json", text)
        case(f"{d}/{name}.json", cmd, 1, regex)

    good = json.dumps(RUN)
    j("empty", "", r'^zoo train: json/empty\.json:1:1: malformed JSON$')
    j("whitespace_only", "  \n\n", r'^zoo train: json/whitespace_only\.json:3:1: malformed JSON$')
    j("truncated", good[:40], r'^zoo train: json/truncated\.json:1:41: malformed JSON$')
    j("trailing_garbage", good + " }", r'^zoo train: json/trailing_garbage\.json:1:173: malformed JSON$')
    j("invalid_utf8", good.replace('"bigram"', '"big\udcffram"', 1).encode("utf-8", "surrogateescape"), r'^zoo train: json/invalid_utf8\.json:1: invalid UTF-8 \(byte 0xFF at offset 25\)$')
    j("nul_byte", good.encode().replace(b'"bigram"', b'"big\x00ram"', 1), r'^zoo train: json/nul_byte\.json:1: a NUL byte \(at offset 25\)$')
    j("deep_nesting", "[" * 5000 + "]" * 5000, r'^zoo train: json/deep_nesting\.json:1:1001: malformed JSON$')
    j("not_object", "[1, 2, 3]", r'^zoo train: json/not_object\.json: a config is a JSON object, not an array$')
    j("bare_nan", good.replace('"steps": 2', '"steps": NaN'), r'^zoo train: json/bare_nan\.json:1:138: malformed JSON$')
    j("single_quotes", good.replace('"', "'"), r'^zoo train: json/single_quotes\.json:1:3: malformed JSON$')
    j("comment", "// a comment\n" + good, r'^zoo train: json/comment\.json:1:1: malformed JSON$')

    d = "run_config"

    def r(name, regex, edit=None, text=None):
        cfg = json.loads(json.dumps(RUN))
        if edit:
            edit(cfg)
        write(f"{d}/{name}.json", text if text is not None else json.dumps(cfg, indent=1))
        case(f"{d}/{name}.json", cmd, 1, regex)

    def setp(path, value):
        def f(cfg):
            o = cfg
            keys = path.split(".")
            for k in keys[:-1]:
                o = o[k]
            o[keys[-1]] = value
        return f

    r("duplicate_key", r'^zoo train: run_config/duplicate_key\.json: model: the key is given twice$', text=good[:-1] + ', "model": {"plugin": "gpt"}}')
    r("unknown_key", r"^zoo train: run_config/unknown_key\.json: train\.stepz: unknown key \(did you mean 'train\.steps'\?\)$", setp("train.stepz", 3))
    r("steps_string", r'^zoo train: run_config/steps_string\.json: train\.steps: expected an integer >= 1 or null, got "2"$', setp("train.steps", "2"))
    r("steps_fraction", r'^zoo train: run_config/steps_fraction\.json: train\.steps: expected an integer >= 1 or null, got 2\.5$', setp("train.steps", 2.5))
    r("steps_negative", r'^zoo train: run_config/steps_negative\.json: train\.steps: expected an integer >= 1 or null, got -2$', setp("train.steps", -2))
    r("steps_huge", r'^zoo train: run_config/steps_huge\.json: train\.steps: expected an integer >= 1 or null, got 1\.0000000000000001e\+300$', setp("train.steps", 1e300))
    r("batch_size_zero", r'^zoo train: run_config/batch_size_zero\.json: train\.batch_size: expected an integer >= 1, got 0$', setp("train.batch_size", 0))
    r("lr_infinite", r'^zoo train: run_config/lr_infinite\.json:18:10: malformed JSON$', setp("train.optimizer", {"name": "adamw", "lr": 1e999}))
    r("lr_negative", r'^zoo train: run_config/lr_negative\.json: train\.optimizer\.lr: expected a number >= 0, got -0\.10000000000000001$', setp("train.optimizer", {"name": "adamw", "lr": -0.1}))
    r("optimizer_unknown", r'^zoo train: run_config/optimizer_unknown\.json: train\.optimizer\.name: expected one of sgd, adam, adamw, got "adamz"$', setp("train.optimizer", {"name": "adamz"}))
    r("plugin_unknown", r"^zoo train: run_config/plugin_unknown\.json: model\.plugin: no plugin named 'nosuchplugin'; looked in", setp("model.plugin", "nosuchplugin"))
    r("plugin_not_string", r'^zoo train: run_config/plugin_not_string\.json: model\.plugin: expected a string, got 3$', setp("model.plugin", 3))
    r("vocab_2_40", r'^zoo train: run_config/vocab_2_40\.json: model\.vocab_size: 1099511627776, but the tokenizer has 6 tokens \(leave it out: it is set from the tokenizer\)$', setp("model.vocab_size", 1 << 40))
    r("tokenizer_unknown", '^zoo train: run_config/tokenizer_unknown\\.json: data\\.tokenizer\\.type: unknown tokenizer type \'sentencepiece\' \\(known: char, word, gpt2, wordpiece\\); no plugin in the registry declares it \\(an entry\'s "tokenizers"\\)$', setp("data.tokenizer", {"type": "sentencepiece"}))
    r("train_missing_file", r'^zoo train: run_config/train_missing_file\.json: data\.train: .*/run_config/no-such-file\.txt: No such file or directory$', setp("data.train", "no-such-file.txt"))
    r("train_not_string", r'^zoo train: run_config/train_not_string\.json: data\.train: expected a path or an array of paths, got 7$', setp("data.train", 7))
    r("extends_self", r'^zoo train: .*/run_config/extends_self\.json: extends: more than 16 levels \(a cycle\?\)$', setp("extends", "extends_self.json"))
    r("extends_missing", r'^zoo train: run_config/extends_missing\.json: extends: .*/run_config/no-such-config\.json: No such file or directory$', setp("extends", "no-such-config.json"))
    write(f"{d}/extends_a.json", json.dumps({"extends": "extends_b.json"}))
    write(f"{d}/extends_b.json", json.dumps({"extends": "extends_a.json"}))
    case(f"{d}/extends_a.json", cmd, 1, r'^zoo train: .*/run_config/extends_b\.json: extends: more than 16 levels \(a cycle\?\)$')

    d = "corpus"

    def co(name, data, regex):
        write(f"{d}/{name}.txt", data)
        cfg = json.loads(json.dumps(RUN))
        cfg["data"]["train"] = f"{name}.txt"
        write(f"{d}/{name}.json", json.dumps(cfg, indent=1))
        case(f"{d}/{name}.txt", f"zoo train {d}/{name}.json --dry-run", 1, regex)

    co("empty", "", r'^zoo train: corpus/empty\.json: data\.train: corpus is empty: .*/corpus/empty\.txt has no text$')
    co("invalid_utf8", b"abc abc\nab\xffc\n", r'^zoo train: corpus/invalid_utf8\.json: data\.train: .*/corpus/invalid_utf8\.txt: invalid UTF-8 at byte offset 10 \(line 2, byte 0xFF, invalid start byte\)$')
    co("truncated_utf8", b"abc abc\nab\xe2\x82", r'^zoo train: corpus/truncated_utf8\.json: data\.train: .*/corpus/truncated_utf8\.txt: invalid UTF-8 at byte offset 10 \(line 2, byte 0xE2, truncated at end of file\)$')
    co("overlong_utf8", b"abc \xc0\xafabc\n", r'^zoo train: corpus/overlong_utf8\.json: data\.train: .*/corpus/overlong_utf8\.txt: invalid UTF-8 at byte offset 4 \(line 1, byte 0xC0, invalid start byte\)$')
    co("surrogate_utf8", b"abc \xed\xa0\x80abc\n", r'^zoo train: corpus/surrogate_utf8\.json: data\.train: .*/corpus/surrogate_utf8\.txt: invalid UTF-8 at byte offset 4 \(line 1, byte 0xED, invalid continuation byte\)$')


# --- compare configs (zoo compare CONFIG --dry-run) ---------------------------

def compare_cases():
    d = "compare_config"
    cmd = "zoo compare FILE --dry-run"
    base = {"name": "m", "seed": 1,
            "data": {"train": "../base/corpus.txt", "val": "../base/corpus.txt"},
            "budget": {"tokens": 1000},
            "models": [{"name": "bigram", "config": "../base/run.json"}]}

    def c(name, regex, edit=None, text=None):
        cfg = json.loads(json.dumps(base))
        if edit:
            edit(cfg)
        write(f"{d}/{name}.json", text if text is not None else json.dumps(cfg, indent=1))
        case(f"{d}/{name}.json", cmd, 1, regex)

    c("empty", r'^zoo compare: compare_config/empty\.json: 1:1: malformed JSON$', text="")
    c("models_empty", r'^zoo compare: compare_config/models_empty\.json: models: expected a non-empty array$', lambda c_: c_.update(models=[]))
    c("models_not_array", r'^zoo compare: compare_config/models_not_array\.json: models: expected a non-empty array$', lambda c_: c_.update(models={"name": "bigram"}))
    c("model_name_duplicate", '^zoo compare: compare_config/model_name_duplicate\\.json: models\\[1\\]\\.name: "bigram" is also models\\[0\\]\'s$', lambda c_: c_["models"].append(dict(c_["models"][0])))
    c("model_config_missing", r'^zoo compare: bigram: .*/compare_config/model_config_missing\.json: models\[0\] \(bigram\): .*/compare_config/no-such\.json: No such file or directory$', lambda c_: c_["models"][0].update(config="no-such.json"))
    c("budget_negative", r'^zoo compare: compare_config/budget_negative\.json: budget\.tokens: expected an integer in \[1, 1e\+15\], got a number out of range$', lambda c_: c_.update(budget={"tokens": -5}))
    c("budget_huge", r'^zoo compare: compare_config/budget_huge\.json: budget\.tokens: expected an integer in \[1, 1e\+15\], got a number out of range$', lambda c_: c_.update(budget={"tokens": 1e300}))
    c("seed_string", r'^zoo compare: compare_config/seed_string\.json: seed: expected an integer in \[0, 1e\+15\], got a string$', lambda c_: c_.update(seed="1"))
    c("unknown_key", r"^zoo compare: compare_config/unknown_key\.json: modelz: unknown key \(did you mean 'models'\?\)$", lambda c_: c_.update(modelz=[]))
    c("probe_missing_file", r'^zoo compare: compare_config/probe_missing_file\.json: probes\[0\]\.train: no-such\.tsv: No such file or directory$', lambda c_: c_.update(
        probes=[{"name": "p", "train": "no-such.tsv", "test": "no-such.tsv"}]))


# --- plugin registries (zoo list --check --registry FILE) ---------------------

def registry_cases():
    d = "registry"
    cmd = "zoo list --check --registry FILE"
    entry = {"name": "toy", "abi": "1.3", "library": "toy.so", "summary": "a toy", "version": "1.0"}

    def c(name, regex, obj=None, text=None):
        write(f"{d}/{name}.json", text if text is not None else json.dumps(obj, indent=1))
        case(f"{d}/{name}.json", cmd, 1, regex)

    c("empty", r'^error: registry/empty\.json:1:1: malformed JSON: unexpected end$', text="")
    # a command that needs a plugin says why the registry that should have had it was not read
    case(f"{d}/empty.json", "zoo info toy --registry FILE", 1,
         r"^zoo info: no plugin named 'toy'; looked in registry/empty\.json, .* \(unread: "
         r"registry/empty\.json:1:1: malformed JSON: unexpected end\)\. Add a plugin")
    c("not_json", r'^error: registry/not_json\.json:1:27: malformed JSON: unexpected end$', text='{"format": 1, "plugins": [')
    c("not_object", r'^error: registry/not_object\.json: expected a JSON object with "format" and "plugins"$', text="[]")
    c("format_unknown", r'^error: registry/format_unknown\.json: format: expected the number 1, got another number$', {"format": 9, "plugins": []})
    c("plugins_not_array", r'^error: registry/plugins_not_array\.json: plugins: expected an array, got an object$', {"format": 1, "plugins": {}})
    c("entry_not_object", r'^error: registry/entry_not_object\.json: plugins\[0\]: expected an object, got a number$', {"format": 1, "plugins": [3]})
    c("name_missing", r'^error: registry/name_missing\.json: plugins\[0\]\.name: missing \(a string is required\)$', {"format": 1, "plugins": [{k: v for k, v in entry.items() if k != "name"}]})
    c("name_bad", '^error: registry/name_bad\\.json: plugins\\[0\\]\\.name: "\\.\\./evil" must be lower-case letters, digits and \'_\'$', {"format": 1, "plugins": [dict(entry, name="../evil")]})
    c("abi_bad", r'^error: registry/abi_bad\.json: plugins\[0\]\.abi: expected "MAJOR\.MINOR" such as "1\.0", got "one"$', {"format": 1, "plugins": [dict(entry, abi="one")]})
    c("abi_future", r"^error: registry/abi_future\.json: plugins\[0\]\.abi: plugin 'toy' is registered for ABI 9\.0, this host supports 1\.0 to 1\.[0-9]+$", {"format": 1, "plugins": [dict(entry, abi="9.0")]})
    c("sha256_bad", r'^error: registry/sha256_bad\.json: plugins\[0\]\.sha256: expected 64 lower-case hexadecimal digits$', {"format": 1, "plugins": [dict(entry, sha256="xyz")]})
    c("library_missing", r'^error: registry/library_missing\.json: plugins\[0\]\.library: registry/toy\.so: No such file or directory$', {"format": 1, "plugins": [entry]})
    c("exports_not_array", r'^error: registry/exports_not_array\.json: plugins\[0\]\.exports: expected an array, got a number$', {"format": 1, "plugins": [dict(entry, exports=3)]})
    c("invalid_utf8", r'^error: registry/invalid_utf8\.json:1: invalid UTF-8 \(byte 0xFF at offset 92\)$', text=json.dumps({"format": 1, "plugins": [entry]}).replace(
        "a toy", "a t\udcffoy").encode("utf-8", "surrogateescape"))


# --- labeled examples (zoo probe VECTORS --train FILE --test FILE) ------------

def labeled_cases():
    d = "labeled"
    ok = "pos\ta b\nneg\tb c\npos\ta a\nneg\tc c\n"
    write("base/labeled.tsv", ok)

    def c(name, data, regex, test=False):
        write(f"{d}/{name}.tsv", data)
        if test:
            cmd = "zoo probe base/vectors.txt --train base/labeled.tsv --test FILE"
        else:
            cmd = "zoo probe base/vectors.txt --train FILE --test base/labeled.tsv"
        case(f"{d}/{name}.tsv", cmd, 1, regex)

    c("empty", "", r'^zoo probe: --train: corpus is empty: labeled/empty\.tsv has no text$')
    c("only_blank_lines", "\n\n\r\n", r'^zoo probe: --train labeled/only_blank_lines\.tsv: no examples$')
    c("invalid_utf8", b"pos\ta b\nneg\tb\xff c\n", r'^zoo probe: --train: labeled/invalid_utf8\.tsv: invalid UTF-8 at byte offset 13 \(line 2, byte 0xFF, invalid start byte\) \(--invalid-utf8 replace reads it\)$')
    c("no_tab", "pos a b\nneg\tb c\n", r'^zoo probe: labeled/no_tab\.tsv:1: expected a label, then the text$')
    c("empty_label", "\ta b\nneg\tb c\n", r'^zoo probe: labeled/empty_label\.tsv:1: expected a label, then the text$')
    c("one_label", "pos\ta b\npos\tb c\n", r"^zoo probe: --train labeled/one_label\.tsv: every example has the label 'pos': a probe needs two classes at least$")
    c("test_label_unknown", "pos\ta b\nmaybe\tb c\n", r'^zoo probe: labeled/test_label_unknown\.tsv:2: a label the training examples do not have \(or more than 64 labels\)$', test=True)
    c("too_many_labels", "".join(f"l{i}\ta\n" for i in range(100)), r'^zoo probe: labeled/too_many_labels\.tsv:65: a label the training examples do not have \(or more than 64 labels\)$')


# --- .npy arrays (npy_read FILE: zoo_npy_read, host/runs/files.c) ------------

def npy(header, data=b"", version=1, hlen=None):
    h = header.encode()
    pad = (64 - (10 + len(h) + 1) % 64) % 64
    h = h + b" " * pad + b"\n"
    n = len(h) if hlen is None else hlen
    if version == 1:
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", n) + h + data
    return b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<I", n) + h + data


def npy_cases():
    d = "npy"
    cmd = "npy_read FILE"
    hd = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }"

    def c(name, data, regex):
        write(f"{d}/{name}.npy", data)
        case(f"{d}/{name}.npy", cmd, 1, regex)

    c("empty", b"", r'^npy_read: npy/empty\.npy: not a \.npy file \(no \\x93NUMPY magic\)$')
    c("no_magic", b"NUMPY\x01\x00" + b"\x00" * 60, r'^npy_read: npy/no_magic\.npy: not a \.npy file \(no \\x93NUMPY magic\)$')
    c("version_unknown", npy(hd % "2, 2,", f32([1, 2, 3, 4]), version=9), r'^npy_read: npy/version_unknown\.npy: version 9\.0: this reader knows 1\.0, 2\.0 and 3\.0$')
    c("header_past_end", npy(hd % "2, 2,", f32([1, 2, 3, 4]), hlen=60000), r'^npy_read: npy/header_past_end\.npy: header: 60000 bytes, past the end of the file \(134 bytes follow\)$')
    c("header_v2_huge", npy(hd % "2, 2,", f32([1, 2, 3, 4]), version=2, hlen=0xFFFFFFF0), r'^npy_read: npy/header_v2_huge\.npy: header: 4294967280 bytes, past the end of the file \(134 bytes follow\)$')
    c("dtype_f8", npy(hd.replace("<f4", "<f8") % "2,", f32([1, 2, 3, 4])), r"^npy_read: npy/dtype_f8\.npy: header: 'descr' is not '<f4' or '<i4' \(float32 or int32, little-endian\)$")
    c("fortran_order", npy(hd.replace("False", "True") % "2, 2,", f32([1, 2, 3, 4])), r"^npy_read: npy/fortran_order\.npy: header: 'fortran_order' is not False \(Fortran order is not supported\)$")
    c("shape_overflow", npy(hd % "4611686018427387905,", f32([1])), r"^npy_read: npy/shape_overflow\.npy: header: 'shape': dimension 0 \(4611686018427387905\) makes more elements than the file's 4 bytes of data hold$")
    c("shape_overflow_product", npy(hd % "4294967296, 4294967296, 1,", f32([1])), r"^npy_read: npy/shape_overflow_product\.npy: header: 'shape': dimension 0 \(4294967296\) makes more elements than the file's 4 bytes of data hold$")
    c("shape_zero", npy(hd % "0, 4,"), r"^npy_read: npy/shape_zero\.npy: header: 'shape': dimension 0 is 0; each must be at least 1$")
    c("shape_negative", npy(hd % "-1, 4,", f32([1, 2, 3, 4])), r"^npy_read: npy/shape_negative\.npy: header: 'shape': dimension 0 is -1; each must be at least 1$")
    c("shape_five_dims", npy(hd % "1, 1, 1, 1, 1,", f32([1])), r"^npy_read: npy/shape_five_dims\.npy: header: 'shape': more than 4 dimensions$")
    c("shape_missing", npy("{'descr': '<f4', 'fortran_order': False, }", f32([1])), r"^npy_read: npy/shape_missing\.npy: header: no 'shape'$")
    c("data_short", npy(hd % "2, 2,", f32([1, 2, 3])), r"^npy_read: npy/data_short\.npy: header: 'shape': dimension 1 \(2\) makes more elements than the file's 12 bytes of data hold$")
    c("data_long", npy(hd % "2, 2,", f32([1, 2, 3, 4, 5])), r'^npy_read: npy/data_long\.npy: the shape needs 16 bytes of data, the file has 20$')
    c("shape_garbage", npy(hd % "2, x,", f32([1, 2])), r"^npy_read: npy/shape_garbage\.npy: header: 'shape': dimension 1 is not an integer$")


# --- ELMo's weights.hdf5 (zoo info DIR): zoo's checks around libhdf5 --------

def hdf5_cases():
    """The files come from make_hdf5.c, built with libhdf5's h5cc when it is
    there (else the committed ones are kept); options.json is the fixture's."""
    d = "hdf5"
    fixture = os.path.join(HERE, "../../plugins/elmo/tests/fixtures/elmo-tiny-a")
    expected = {
        "missing_dataset": r"^zoo info: hdf5/missing_dataset/weights\.hdf5: CNN/W_cnn_1: no such dataset$",
        "group_not_dataset": r"^zoo info: hdf5/group_not_dataset/weights\.hdf5: CNN/W_cnn_1: not a "
                             r"readable dataset \(not a dataset\)$",
        "string_dtype": r"^zoo info: hdf5/string_dtype/weights\.hdf5: char_embed: holds neither "
                        r"floats nor integers$",
        "wrong_shape": r"^zoo info: hdf5/wrong_shape/weights\.hdf5: char_embed: expected shape "
                       r"\[261, 4\], got \[4, 261\]$",
        "zero_dim": r"^zoo info: hdf5/zero_dim/weights\.hdf5: char_embed: expected shape "
                    r"\[261, 4\], got \[0, 4\]$",
        "nan_weight": r"^zoo info: hdf5/nan_weight/weights\.hdf5: char_embed: element 13 is NaN; "
                      r"a model's weights must be finite$",
        "inf_weight": r"^zoo info: hdf5/inf_weight/weights\.hdf5: CNN_proj/b_proj: element 0 is "
                      r"infinite; a model's weights must be finite$",
    }
    h5cc = shutil.which("h5cc")
    if h5cc:
        import subprocess
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            exe = os.path.join(tmp, "make_hdf5")
            subprocess.run([h5cc, "-o", exe, os.path.join(HERE, "make_hdf5.c")], check=True,
                           cwd=tmp)
            shutil.rmtree(os.path.join(HERE, d), ignore_errors=True)
            os.makedirs(os.path.join(HERE, d))
            subprocess.run([exe, os.path.join(fixture, "weights.hdf5"), os.path.join(HERE, d)],
                           check=True)
    elif not os.path.isdir(os.path.join(HERE, d)):
        sys.exit("make.py: the HDF5 cases need libhdf5's h5cc")
    with open(os.path.join(fixture, "options.json"), "rb") as f:
        options = f.read()
    for name, regex in expected.items():
        write(f"{d}/{name}/options.json", options)
        case(f"{d}/{name}", "zoo info FILE", 1, regex)


def main():
    for sub in os.listdir(HERE):
        p = os.path.join(HERE, sub)
        if os.path.isdir(p) and sub not in ("hdf5",):
            shutil.rmtree(p)
    safetensors_cases()
    tokenizer_json_cases()
    hf_cases()
    tokenizer_file_cases()
    word2vec_cases()
    run_config_cases()
    compare_cases()
    registry_cases()
    labeled_cases()
    npy_cases()
    hdf5_cases()
    with open(os.path.join(HERE, "expected.tsv"), "w") as f:
        f.write("# file\tcommand\texit\tregex (made by make.py: edit there)\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{len(rows)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
