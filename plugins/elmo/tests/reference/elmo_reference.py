#!/usr/bin/python3
"""Reference ELMo biLM for zoo's fixtures: a plain eager PyTorch implementation written from
issue 13's description and AllenNLP's documented behaviour (no allennlp, no bilm-tf), tiny seeded
random models stored in AllenNLP's published layout (options.json + weights.hdf5), and the
expected `embed` outputs.

    /usr/bin/python3 plugins/elmo/tests/reference/elmo_reference.py generate [--out-dir DIR]
        writes DIR/elmo-tiny-a/ and DIR/elmo-tiny-b/ (default DIR: plugins/elmo/tests/fixtures)
    /usr/bin/python3 plugins/elmo/tests/reference/elmo_reference.py verify [--out-dir DIR]
        re-reads the committed files (weights from each weights.hdf5, not from the RNG), recomputes
        the embeddings and character ids, compares with the committed .npy files; non-zero exit on
        a mismatch
    /usr/bin/python3 plugins/elmo/tests/reference/elmo_reference.py embed MODEL_DIR --text "..." --out X.npy
        the reference `embed --layer all` of any AllenNLP-layout directory: [3, tokens, 2*projection]

Needs Debian's python3-torch, python3-numpy and python3-h5py only (hence /usr/bin/python3). This
script generates fixtures; it is never a test-time dependency: the tests read the committed files.

Semantics (everything computed in float64 from the float32 weights; sentences one at a time):
  characters  a token is [BOW 258, its first <= max_chars-2 UTF-8 bytes (0..255), EOW 259, then
              PAD 260 up to max_chars]; the sentence marks <S> = [258, 256, 259, 260...] and
              </S> = [258, 257, 259, 260...]; every id is then shifted by +1 (id 0 = a padded
              token position, never produced here since sentences are not batched). A token whose
              text is exactly "<S>" or "</S>" gets the sentence-mark ids, as AllenNLP's
              ELMoCharacterMapper does. Truncation is by bytes and may split a UTF-8 sequence.
  char embed  table [n_file_rows + 1, E]: row 0 zero, rows 1.. = the file's char_embed [261, E].
  CNN         for filter bank i (width w, n filters): out[p, f] = sum_{k<w, e} x[p+k, e] *
              W_cnn_i[0, k, e, f] + b_cnn_i[f] for p = 0..max_chars-w ("valid", no padding); max
              over p; then the activation (relu or tanh); banks concatenated in file order.
  highway k   g = sigmoid(x W_carry + b_carry); y = g * relu(x W_transform + b_transform) + (1-g) * x
              (bilm-tf's convention; relu whatever char_cnn.activation says).
  projection  t = x W_proj + b_proj  -> [T, projection_dim]  (the token encoder's output)
  LSTMP cell  z = [x ; h_prev] W_0 + B, split in TensorFlow order i, j, f, o;
              c = sigmoid(f + 1) * c_prev + sigmoid(i) * tanh(j)   (the +1 is added to B's f slice
              at load, as AllenNLP does: the file stores bilm-tf's B without its forget_bias);
              c = clamp(c, -cell_clip, cell_clip);  h = clamp((sigmoid(o) * tanh(c)) W_P_0,
              -proj_clip, proj_clip). A clip value of 0 or null means no clipping (AllenNLP tests
              the value for truth).
  stacks      direction d (RNN_0 forward over positions 0..T-1, RNN_1 backward over T-1..0), each
              from a zero (c, h) state for every sentence: h0 = LSTMP_0(t), h1 = LSTMP_1(h0) + h0
              when use_skip_connections (the residual is part of layer 2's output, as AllenNLP
              returns it).
  embed       the sentence gets <S> and </S> around it; layer 0 = [t ; t], layer 1 = [fw h0 ; bw
              h0], layer 2 = [fw h1 ; bw h1]; the two mark positions are removed -> [3, T, 2P].
"""

import argparse
import json
import os
import sys

import h5py
import numpy as np
import torch

torch.set_default_dtype(torch.float64)

BOS_CHAR, EOS_CHAR, BOW_CHAR, EOW_CHAR, PAD_CHAR = 256, 257, 258, 259, 260
FILE_CHAR_ROWS = 261  # char_embed rows in the published file (ids 1..261 after the shift)

# One sentence per line, whitespace-tokenized. "bank" occurs in three sentences (the contextual
# property); "Zyxqvorp" and "glimbed" look out of vocabulary; line 4 is non-ASCII (2- and 3-byte
# UTF-8); line 5 is one 57-byte token whose 48-byte cut splits the "ü" (0xc3 kept, 0xbc dropped).
SENTENCES = [
    "the bank raised its rates .",
    "we sat on the river bank",
    "Zyxqvorp glimbed the bank at dawn",
    "naïve café über 東京 !",
    "Donaudampfschiffahrtsgesellschaftskapitänswitwüberzüge",
]
CONTEXT_WORD = "bank"

FIXTURES = {
    # a: relu, one highway layer, ELMo's published clip values (3.0), which these weights never
    # reach: the no-clipping fixture (asserted).
    "elmo-tiny-a": {
        "seed": 20261203,
        "options": {
            "char_cnn": {
                "activation": "relu",
                "embedding": {"dim": 4},
                "filters": [[1, 4], [2, 4], [3, 8]],
                "max_characters_per_token": 50,
                "n_characters": 262,
                "n_highway": 1,
            },
            "lstm": {
                "cell_clip": 3.0,
                "dim": 16,
                "n_layers": 2,
                "proj_clip": 3.0,
                "projection_dim": 8,
                "use_skip_connections": True,
            },
        },
        "lstm_scale": 0.8,
        "clipping": False,
    },
    # b: tanh, two highway layers, other sizes, and clip values small enough that both the cell
    # and the projection clip are active on some (not all) entries (asserted).
    "elmo-tiny-b": {
        "seed": 7041987,
        "options": {
            "char_cnn": {
                "activation": "tanh",
                "embedding": {"dim": 3},
                "filters": [[2, 6], [3, 6], [5, 4]],
                "max_characters_per_token": 50,
                "n_characters": 262,
                "n_highway": 2,
            },
            "lstm": {
                "cell_clip": 0.6,
                "dim": 12,
                "n_layers": 2,
                "proj_clip": 0.35,
                "projection_dim": 6,
                "use_skip_connections": True,
            },
        },
        "lstm_scale": 1.5,
        "clipping": True,
    },
}


# ---------------------------------------------------------------------------------------------
# characters


def token_char_ids(token, max_chars):
    """The +1-shifted character ids of one token: a list of max_chars ints in 1..261."""
    ids = [PAD_CHAR] * max_chars
    ids[0] = BOW_CHAR
    if token in ("<S>", "</S>"):
        ids[1] = BOS_CHAR if token == "<S>" else EOS_CHAR
        ids[2] = EOW_CHAR
    else:
        b = token.encode("utf-8")[: max_chars - 2]
        ids[1 : 1 + len(b)] = list(b)
        ids[1 + len(b)] = EOW_CHAR
    return [i + 1 for i in ids]


def sentence_char_ids(tokens, max_chars):
    """[len(tokens) + 2, max_chars] int32: <S>, the tokens, </S>."""
    rows = [token_char_ids(t, max_chars) for t in ["<S>"] + list(tokens) + ["</S>"]]
    return np.array(rows, dtype=np.int32)


# ---------------------------------------------------------------------------------------------
# the published layout: names and shapes


def layout(options):
    """[(dataset path, shape)] of every array weights.hdf5 must hold for these options."""
    cc, ls = options["char_cnn"], options["lstm"]
    E, P, D = cc["embedding"]["dim"], ls["projection_dim"], ls["dim"]
    nf = sum(n for _, n in cc["filters"])
    out = [("char_embed", (FILE_CHAR_ROWS, E))]
    for i, (w, n) in enumerate(cc["filters"]):
        out += [(f"CNN/W_cnn_{i}", (1, w, E, n)), (f"CNN/b_cnn_{i}", (n,))]
    for k in range(cc["n_highway"]):
        g = f"CNN_high_{k}"
        out += [(f"{g}/W_carry", (nf, nf)), (f"{g}/b_carry", (nf,)),
                (f"{g}/W_transform", (nf, nf)), (f"{g}/b_transform", (nf,))]
    out += [("CNN_proj/W_proj", (nf, P)), ("CNN_proj/b_proj", (P,))]
    for d in range(2):
        for layer in range(ls["n_layers"]):
            in_dim = P  # layer 0 reads the token encoder (P wide), layer 1 reads layer 0's h (P)
            c = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
            out += [(f"{c}/W_0", (in_dim + P, 4 * D)), (f"{c}/B", (4 * D,)), (f"{c}/W_P_0", (D, P))]
    return out


def random_weights(options, seed, lstm_scale):
    """Seeded float32 weights, scaled so that every nonlinearity sees O(1) inputs; lstm_scale
    multiplies the LSTM matrices (how far the cells drift, hence whether the clips bite)."""
    g = np.random.default_rng(seed)
    w = {}
    for name, shape in layout(options):
        fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        if name == "char_embed":
            a = g.normal(0.0, 1.0, shape)
        elif len(shape) == 1:
            a = g.normal(0.0, 0.3, shape)
        else:
            scale = lstm_scale if name.startswith("RNN_") else 1.0
            a = g.normal(0.0, 1.0 / np.sqrt(fan_in), shape) * scale
        w[name] = a.astype(np.float32)
    return w


def write_hdf5(path, weights):
    """Contiguous, uncompressed float32 datasets (any libhdf5 reads them without filters)."""
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for name in sorted(weights):
            f.create_dataset(name, data=weights[name], dtype="<f4")
    os.replace(tmp, path)


def read_model_dir(d):
    """(options, weights) from an AllenNLP-layout directory; names and shapes checked."""
    with open(os.path.join(d, "options.json")) as f:
        options = json.load(f)
    weights = {}
    with h5py.File(os.path.join(d, "weights.hdf5"), "r") as f:
        for name, shape in layout(options):
            if name not in f:
                raise SystemExit(f"{d}/weights.hdf5: missing dataset {name}")
            a = np.asarray(f[name][...])
            if a.shape != shape:
                raise SystemExit(f"{d}/weights.hdf5: {name} has shape {a.shape}, expected {shape}")
            weights[name] = a
    return options, weights


# ---------------------------------------------------------------------------------------------
# the model


class ElmoBiLM:
    """The biLM of one options dict and one weights dict (the file's names and conventions)."""

    def __init__(self, options, weights):
        cc, ls = options["char_cnn"], options["lstm"]
        if ls["n_layers"] != 2:
            raise SystemExit("the reference handles n_layers 2 only (as ELMo has it)")
        if cc["activation"] not in ("relu", "tanh"):
            raise SystemExit(f"unknown char_cnn.activation {cc['activation']!r}")
        t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in weights.items()}
        E = cc["embedding"]["dim"]
        self.max_chars = cc["max_characters_per_token"]
        self.act = torch.relu if cc["activation"] == "relu" else torch.tanh
        self.char_table = torch.cat([torch.zeros(1, E), t["char_embed"]], 0)  # [262, E]
        self.convs = [(t[f"CNN/W_cnn_{i}"][0], t[f"CNN/b_cnn_{i}"]) for i in range(len(cc["filters"]))]
        self.highways = [tuple(t[f"CNN_high_{k}/{n}"] for n in ("W_carry", "b_carry", "W_transform", "b_transform"))
                         for k in range(cc["n_highway"])]
        self.proj = (t["CNN_proj/W_proj"], t["CNN_proj/b_proj"])
        self.D, self.P = ls["dim"], ls["projection_dim"]
        self.cell_clip = ls.get("cell_clip") or None
        self.proj_clip = ls.get("proj_clip") or None
        self.skip = bool(ls.get("use_skip_connections", False))
        self.cells = []  # [direction][layer] = (W_0, B with forget +1, W_P_0)
        for d in range(2):
            per = []
            for layer in range(2):
                c = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
                B = t[f"{c}/B"].clone()
                B[2 * self.D : 3 * self.D] += 1.0  # TF order i, j, f, o: f is the third slice
                per.append((t[f"{c}/W_0"], B, t[f"{c}/W_P_0"]))
            self.cells.append(per)
        self.stats = {"cell_clipped": 0, "cell_total": 0, "proj_clipped": 0, "proj_total": 0}

    def token_encoder(self, char_ids):
        """char_ids [T, max_chars] (shifted ids) -> [T, P]."""
        x = self.char_table[torch.as_tensor(char_ids, dtype=torch.long)]  # [T, C, E]
        banks = []
        for W, b in self.convs:  # W [w, E, n]
            w = W.shape[0]
            win = x.unfold(1, w, 1)  # [T, C-w+1, E, w]
            conv = torch.einsum("tpek,ken->tpn", win, W) + b
            banks.append(self.act(conv.max(dim=1).values))
        h = torch.cat(banks, -1)
        for Wc, bc, Wt, bt in self.highways:
            g = torch.sigmoid(h @ Wc + bc)
            h = g * torch.relu(h @ Wt + bt) + (1.0 - g) * h
        return h @ self.proj[0] + self.proj[1]

    def lstmp(self, xs, cell):
        """One LSTMP layer over the rows of xs [T, in] in the given order, from a zero state."""
        W, B, WP = cell
        D = self.D
        c = torch.zeros(D)
        h = torch.zeros(self.P)
        out = []
        for x in xs:
            z = torch.cat([x, h]) @ W + B
            i, j, f, o = z[:D], z[D : 2 * D], z[2 * D : 3 * D], z[3 * D :]
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(j)
            if self.cell_clip is not None:
                self.stats["cell_clipped"] += int((c.abs() > self.cell_clip).sum())
                c = c.clamp(-self.cell_clip, self.cell_clip)
            self.stats["cell_total"] += D
            h = (torch.sigmoid(o) * torch.tanh(c)) @ WP
            if self.proj_clip is not None:
                self.stats["proj_clipped"] += int((h.abs() > self.proj_clip).sum())
                h = h.clamp(-self.proj_clip, self.proj_clip)
            self.stats["proj_total"] += self.P
            out.append(h)
        return torch.stack(out)

    def direction(self, tok, d):
        """Both layers of direction d (0 forward, 1 backward) -> (h0, h1), each [T, P] in
        sentence order."""
        xs = tok if d == 0 else tok.flip(0)
        h0 = self.lstmp(xs, self.cells[d][0])
        h1 = self.lstmp(h0, self.cells[d][1])
        if self.skip:
            h1 = h1 + h0
        if d == 1:
            h0, h1 = h0.flip(0), h1.flip(0)
        return h0, h1

    def embed(self, tokens):
        """tokens (list of str) -> (layers [3, T, 2P] float64 numpy, char ids [T+2, C] int32)."""
        ids = sentence_char_ids(tokens, self.max_chars)
        tok = self.token_encoder(ids)
        f0, f1 = self.direction(tok, 0)
        b0, b1 = self.direction(tok, 1)
        layers = torch.stack([torch.cat([tok, tok], -1), torch.cat([f0, b0], -1), torch.cat([f1, b1], -1)])
        return layers[:, 1:-1].numpy(), ids


# ---------------------------------------------------------------------------------------------
# checks


def check_contextual(model, name):
    """The same word in several sentences: equal layer 0, different layers 1 and 2."""
    vecs = []
    for s in SENTENCES:
        toks = s.split()
        if CONTEXT_WORD in toks:
            layers, _ = model.embed(toks)
            vecs.append(layers[:, toks.index(CONTEXT_WORD)])
    assert len(vecs) >= 2
    for k in range(1, len(vecs)):
        d = [float(np.abs(vecs[0][j] - vecs[k][j]).max()) for j in range(3)]
        print(f"  {name}: '{CONTEXT_WORD}' in sentence pair 0/{k}: max |diff| layer0 {d[0]:.3g}, "
              f"layer1 {d[1]:.3g}, layer2 {d[2]:.3g}")
        assert d[0] <= 1e-12, "layer 0 must not depend on the context"
        assert d[1] > 1e-3 and d[2] > 1e-3, "layers 1 and 2 must depend on the context"


def check_directions(model, name):
    """Change one token: the forward halves before it and the backward halves after it stay."""
    toks = SENTENCES[0].split()
    alt = list(toks)
    k = 2
    alt[k] = "lowered"
    a, _ = model.embed(toks)
    b, _ = model.embed(alt)
    P = model.P
    fw_before = float(np.abs(a[1:, :k, :P] - b[1:, :k, :P]).max())
    bw_after = float(np.abs(a[1:, k + 1 :, P:] - b[1:, k + 1 :, P:]).max())
    fw_after = float(np.abs(a[1:, k:, :P] - b[1:, k:, :P]).max())
    bw_before = float(np.abs(a[1:, : k + 1, P:] - b[1:, : k + 1, P:]).max())
    print(f"  {name}: token {k} changed: fw before {fw_before:.3g}, bw after {bw_after:.3g}, "
          f"fw from it {fw_after:.3g}, bw up to it {bw_before:.3g}")
    assert fw_before == 0.0 and bw_after == 0.0
    assert fw_after > 1e-3 and bw_before > 1e-3


def check_against_torch_modules(options, weights, name):
    """A second derivation from torch's own building blocks, so that a slip in the hand-written
    loops (unfold windows, gate order, forget bias, projection, reversal) shows up: the token
    encoder from F.embedding + F.conv1d + F.linear, each direction's stack from torch.nn.LSTM
    with proj_size (its gate order is i, f, g, o: W_0's TF blocks i, j, f, o are permuted). The
    LSTM comparison runs with clipping off (torch.nn.LSTM has none); the clamp is checked apart."""
    F = torch.nn.functional
    model = ElmoBiLM(options, weights)
    model.cell_clip = model.proj_clip = None
    t = {k: torch.from_numpy(np.asarray(v, dtype=np.float64)) for k, v in weights.items()}
    cc, ls = options["char_cnn"], options["lstm"]
    D, P = ls["dim"], ls["projection_dim"]
    worst = 0.0
    for s in SENTENCES:
        ids = torch.from_numpy(sentence_char_ids(s.split(), cc["max_characters_per_token"])).long()
        table = F.pad(t["char_embed"], (0, 0, 1, 0))  # zero row 0 in front
        x = F.embedding(ids, table, padding_idx=0).transpose(1, 2)  # [T, E, C]
        act = torch.relu if cc["activation"] == "relu" else torch.tanh
        banks = []
        for i in range(len(cc["filters"])):
            w = t[f"CNN/W_cnn_{i}"][0].permute(2, 1, 0)  # [n, E, width]
            banks.append(act(F.conv1d(x, w, t[f"CNN/b_cnn_{i}"]).amax(-1)))
        h = torch.cat(banks, -1)
        for k in range(cc["n_highway"]):
            g = f"CNN_high_{k}"
            gate = torch.sigmoid(F.linear(h, t[f"{g}/W_carry"].T, t[f"{g}/b_carry"]))
            h = gate * torch.relu(F.linear(h, t[f"{g}/W_transform"].T, t[f"{g}/b_transform"])) + (1 - gate) * h
        tok = F.linear(h, t["CNN_proj/W_proj"].T, t["CNN_proj/b_proj"])
        mine = model.token_encoder(ids.numpy())
        worst = max(worst, float((tok - mine).abs().max()))
        for d in range(2):
            xs = tok if d == 0 else tok.flip(0)
            outs = []
            for layer in range(2):
                c = f"RNN_{d}/RNN/MultiRNNCell/Cell{layer}/LSTMCell"
                i_, j_, f_, o_ = t[f"{c}/W_0"].split(D, dim=1)
                bi, bj, bf, bo = t[f"{c}/B"].split(D)
                lstm = torch.nn.LSTM(P, D, proj_size=P, batch_first=True)
                with torch.no_grad():
                    W = torch.cat([i_, f_, j_, o_], 1).T  # [4D, P + P]
                    lstm.weight_ih_l0.copy_(W[:, :P])
                    lstm.weight_hh_l0.copy_(W[:, P:])
                    lstm.bias_ih_l0.copy_(torch.cat([bi, bf + 1.0, bj, bo]))
                    lstm.bias_hh_l0.zero_()
                    lstm.weight_hr_l0.copy_(t[f"{c}/W_P_0"].T)
                    y = lstm(xs[None])[0][0]
                outs.append(y)
                xs = y
            if ls.get("use_skip_connections"):
                outs[1] = outs[1] + outs[0]
            if d == 1:
                outs = [o.flip(0) for o in outs]
            h0, h1 = model.direction(tok, d)
            worst = max(worst, float((outs[0] - h0).abs().max()), float((outs[1] - h1).abs().max()))
    print(f"  {name}: against torch.nn (conv1d, linear, LSTM proj_size, clips off): max |diff| {worst:.3g}")
    assert worst < 1e-10
    # the clamp itself: with proj_clip, layer 1 (each direction's h0) stays inside
    # [-proj_clip, proj_clip] and reaches the bound where the clip bit
    clipped = ElmoBiLM(options, weights)
    if clipped.proj_clip is not None:
        top = max(float(np.abs(clipped.embed(s.split())[0][1]).max()) for s in SENTENCES)
        assert top <= clipped.proj_clip
        if clipped.stats["proj_clipped"]:
            assert top == clipped.proj_clip
        print(f"  {name}: max |layer 1| {top:.6g} (proj_clip {clipped.proj_clip})")


def run_fixture(options, weights):
    """Every sentence's (layers, char ids) and the clip statistics."""
    model = ElmoBiLM(options, weights)
    outs = [model.embed(s.split()) for s in SENTENCES]
    return model, outs


# ---------------------------------------------------------------------------------------------
# commands


README = """# {name}: a tiny random ELMo in AllenNLP's published layout

Generated by `/usr/bin/python3 plugins/elmo/tests/reference/elmo_reference.py generate` (seed
{seed}); `... verify` re-reads these files and recomputes everything. The weights are random
(not trained): this directory only pins down the computation, see the script's docstring for the
exact semantics.

- `options.json`: AllenNLP's options format ({act}, {nh} highway layer(s), filters {filters},
  char embedding {E}, LSTM cell {D}, projection {P}, cell_clip {cc}, proj_clip {pc}, skip
  connections on).
- `weights.hdf5`: AllenNLP's dataset names and shapes (char_embed [261, {E}] without the zero
  padding row; W_0 = [input; hidden] x 4*dim in TensorFlow gate order i, j, f, o; B stored
  without the +1 forget bias, which a loader adds), float32, contiguous, uncompressed.
- `sentences.txt`: one whitespace-tokenized sentence per line (no sentence marks).
- `embeddings_N.npy`: float32 [3, tokens, {P2}] for line N (`embed --layer all`): layer 0 = the
  token encoder output twice, layers 1 and 2 = forward || backward LSTM layer (layer 2 includes
  the skip connection); `<S>`/`</S>` added inside and removed.
- `char_ids_N.npy`: int32 [tokens + 2, 50], the +1-shifted character ids of `<S>`, the tokens,
  `</S>` for line N (what the word encoder receives).

Clipping over all sentences: cell {cclip}/{ctot} entries clipped, projection {pclip}/{ptot}.
Compare within 1e-4 (the reference computes in float64 from the float32 weights).
"""


def generate(out_dir):
    for name, fx in FIXTURES.items():
        d = os.path.join(out_dir, name)
        os.makedirs(d, exist_ok=True)
        options = fx["options"]
        weights = random_weights(options, fx["seed"], fx["lstm_scale"])
        with open(os.path.join(d, "options.json"), "w") as f:
            json.dump(options, f, indent=2, sort_keys=True)
            f.write("\n")
        write_hdf5(os.path.join(d, "weights.hdf5"), weights)

        # round trip: the file holds exactly these arrays, and the model built from it agrees
        opt2, w2 = read_model_dir(d)
        assert opt2 == options
        assert sorted(w2) == sorted(weights)
        with h5py.File(os.path.join(d, "weights.hdf5"), "r") as f:
            names = []
            f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
            assert sorted(names) == sorted(weights), "unexpected datasets in the file"
            for n in names:
                assert f[n].dtype == np.dtype("<f4") and f[n].compression is None
        for n in weights:
            assert w2[n].dtype == np.float32 and np.array_equal(w2[n], weights[n]), n
        model, outs = run_fixture(options, weights)
        _, outs2 = run_fixture(opt2, w2)
        for (a, ia), (b, ib) in zip(outs, outs2):
            assert np.array_equal(a, b) and np.array_equal(ia, ib)
        print(f"{name}: round trip exact ({len(weights)} datasets)")

        s = dict(model.stats)  # the sentences only: the checks below run the model again
        print(f"  {name}: cell clipped {s['cell_clipped']}/{s['cell_total']}, "
              f"projection clipped {s['proj_clipped']}/{s['proj_total']}")
        if fx["clipping"]:
            assert 0 < s["cell_clipped"] < s["cell_total"], "cell_clip must be active on some entries"
            assert 0 < s["proj_clipped"] < s["proj_total"], "proj_clip must be active on some entries"
        else:
            assert s["cell_clipped"] == 0 and s["proj_clipped"] == 0, "fixture a must not clip"

        with open(os.path.join(d, "sentences.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(SENTENCES) + "\n")
        for k, (layers, ids) in enumerate(outs):
            assert layers.shape == (3, len(SENTENCES[k].split()), 2 * model.P)
            np.save(os.path.join(d, f"embeddings_{k}.npy"), layers.astype(np.float32))
            np.save(os.path.join(d, f"char_ids_{k}.npy"), ids)
        check_contextual(model, name)
        check_directions(model, name)
        check_against_torch_modules(options, weights, name)

        cc, ls = options["char_cnn"], options["lstm"]
        with open(os.path.join(d, "README.md"), "w") as f:
            f.write(README.format(
                name=name, seed=fx["seed"], act=cc["activation"], nh=cc["n_highway"],
                filters=cc["filters"], E=cc["embedding"]["dim"], D=ls["dim"], P=ls["projection_dim"],
                P2=2 * ls["projection_dim"], cc=ls["cell_clip"], pc=ls["proj_clip"],
                cclip=s["cell_clipped"], ctot=s["cell_total"], pclip=s["proj_clipped"],
                ptot=s["proj_total"]))
        print(f"{name}: wrote {d}")


def verify(out_dir):
    ok = True
    for name in FIXTURES:
        d = os.path.join(out_dir, name)
        options, weights = read_model_dir(d)
        with open(os.path.join(d, "sentences.txt"), encoding="utf-8") as f:
            lines = [ln for ln in f.read().split("\n") if ln]
        model = ElmoBiLM(options, weights)
        worst = 0.0
        for k, line in enumerate(lines):
            layers, ids = model.embed(line.split())
            want = np.load(os.path.join(d, f"embeddings_{k}.npy"))
            want_ids = np.load(os.path.join(d, f"char_ids_{k}.npy"))
            if want.shape != layers.shape or not np.array_equal(want_ids, ids):
                print(f"{name}: sentence {k}: shape or character ids differ")
                ok = False
                continue
            worst = max(worst, float(np.abs(want - layers).max()))
        s = model.stats
        print(f"{name}: {len(lines)} sentences, max |diff| {worst:.3g}; cell clipped "
              f"{s['cell_clipped']}/{s['cell_total']}, projection clipped {s['proj_clipped']}/{s['proj_total']}")
        if worst > 1e-6:
            ok = False
        check_contextual(model, name)
        check_directions(model, name)
        check_against_torch_modules(options, weights, name)
    print("verify:", "OK" if ok else "MISMATCH")
    return 0 if ok else 1


def embed_cmd(model_dir, text, out):
    options, weights = read_model_dir(model_dir)
    layers, _ = ElmoBiLM(options, weights).embed(text.split())
    np.save(out, layers.astype(np.float32))
    print(f"{out}: {list(layers.shape)}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.normpath(os.path.join(here, "..", "fixtures"))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--out-dir", default=default_out)
    v = sub.add_parser("verify")
    v.add_argument("--out-dir", default=default_out)
    e = sub.add_parser("embed")
    e.add_argument("model_dir")
    e.add_argument("--text", required=True)
    e.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "generate":
        generate(a.out_dir)
        return 0
    if a.cmd == "verify":
        return verify(a.out_dir)
    embed_cmd(a.model_dir, a.text, a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
