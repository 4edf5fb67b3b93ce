#!/usr/bin/python3
"""Reference word2vec single updates for zoo's fixtures: skip-gram and CBOW, with negative
sampling and/or hierarchical softmax, written from the update rules in plain numpy (float64,
exact sigmoid, no clipping -- so the C code is checked against the maths, not a lookup table).

    /usr/bin/python3 plugins/word2vec/tests/reference/word2vec_reference.py [OUT]
        writes OUT (default plugins/word2vec/tests/fixtures/word2vec/one_update.json under the repo root) and
        prints the Huffman paths; deterministic (fixed seed), so rerunning reproduces the file

Needs Debian's python3-numpy only. A fixture generator, never a test-time dependency.

Every case starts from the same initial W (input vectors), O (negative-sampling output vectors)
and H (hierarchical-softmax inner nodes) and records them after ONE update for one centre word.
Skip-gram predicts the centre from each context word in turn (each context word sees the others'
updates to O and H); CBOW predicts it from the sum (or mean) of the context vectors and adds the
unscaled error to every context entry, as word2vec.c does. Skip-gram has a set of negatives per
context word, CBOW one set for the centre. Negatives equal to the centre are
skipped; duplicates are processed each time.

Huffman tree: word2vec.c's two-queue construction, except that a leaf wins a tie with an inner
node (word2vec.c takes the inner node). zoo_huffman_build breaks ties that way, and these counts
do hit such a tie (leaf 11 vs inner node 2+3+6=11), which changes the codes under that node.
"""

import json
import os
import sys

import numpy as np

SEED = 20240917
V, D = 7, 5
COUNTS = [50, 30, 20, 11, 6, 3, 2]
ALPHA = 0.05
CASES = [
    # skip-gram: a set of negatives per context word (word2vec.c and gensim draw one per pair)
    dict(name="sg_ns", model="skipgram", mean=False, hs=False, negative=True,
         centre=2, contexts=[0, 1, 3, 4], negatives=[[5, 2, 6], [5, 5, 1], [0, 3, 2], [6, 1, 4]]),
    dict(name="sg_hs", model="skipgram", mean=False, hs=True, negative=False,
         centre=4, contexts=[0, 6, 1, 2], negatives=[]),
    dict(name="sg_ns_hs", model="skipgram", mean=False, hs=True, negative=True,
         centre=1, contexts=[3, 0, 5], negatives=[[6, 0, 4], [1, 2, 3], [4, 4, 0]]),
    dict(name="cbow_ns_mean", model="cbow", mean=True, hs=False, negative=True,
         centre=3, contexts=[0, 1, 1, 4, 6], negatives=[2, 3, 5, 0, 6]),
    dict(name="cbow_ns_sum", model="cbow", mean=False, hs=False, negative=True,
         centre=3, contexts=[0, 1, 1, 4, 6], negatives=[2, 3, 5, 0, 6]),
    dict(name="cbow_hs_mean", model="cbow", mean=True, hs=True, negative=False,
         centre=0, contexts=[2, 5, 6, 1], negatives=[]),
]


def sigmoid(f):
    return 1.0 / (1.0 + np.exp(-f))


def huffman(counts):
    """(points, codes) per word, root first; counts must be in descending order."""
    n = len(counts)
    weight = list(counts) + [0] * (n - 1)
    parent, bit = [0] * (2 * n - 1), [0] * (2 * n - 1)
    leaf, inner = n - 1, n  # leaves are consumed from the smallest (last) upward
    for made in range(n, 2 * n - 1):
        pick = []
        for _ in range(2):
            if leaf >= 0 and (inner >= made or weight[leaf] <= weight[inner]):
                pick.append(leaf)
                leaf -= 1
            else:
                pick.append(inner)
                inner += 1
        weight[made] = weight[pick[0]] + weight[pick[1]]
        parent[pick[0]] = parent[pick[1]] = made
        bit[pick[1]] = 1
    points, codes = [], []
    for w in range(n):
        p, c, v = [], [], w
        while v != 2 * n - 2:
            p.append(parent[v] - n)
            c.append(bit[v])
            v = parent[v]
        points.append(p[::-1])
        codes.append(c[::-1])
    return points, codes


def neg_log_likelihood(f, label):
    return -np.log(sigmoid(f)) if label == 1 else -np.log(1.0 - sigmoid(f))


def predict(h, O, H, case, negatives, tree, alpha):
    """Updates O and H in place for input vector h; returns (error for h, loss)."""
    e, loss = np.zeros(D), 0.0
    if case["hs"]:
        points, codes = tree
        for p, code in zip(points[case["centre"]], codes[case["centre"]]):
            f = h @ H[p]
            g = alpha * (1 - code - sigmoid(f))
            loss += neg_log_likelihood(f, 1 - code)
            e += g * H[p]
            H[p] += g * h
    if case["negative"]:
        targets = [(case["centre"], 1)] + [(t, 0) for t in negatives if t != case["centre"]]
        for t, label in targets:
            f = h @ O[t]
            g = alpha * (label - sigmoid(f))
            loss += neg_log_likelihood(f, label)
            e += g * O[t]
            O[t] += g * h
    return e, loss


def update(W, O, H, case, tree, alpha):
    W, O, H = W.copy(), O.copy(), H.copy()
    loss = 0.0
    if case["model"] == "skipgram":
        for j, c in enumerate(case["contexts"]):
            # h is a copy: W[c] must stay fixed while O and H move, and change only at the end
            negatives = case["negatives"][j] if case["negative"] else []
            e, l = predict(W[c].copy(), O, H, case, negatives, tree, alpha)
            W[c] += e
            loss += l
    else:
        h = W[case["contexts"]].sum(axis=0)
        if case["mean"]:
            h /= len(case["contexts"])
        e, loss = predict(h, O, H, case, case["negatives"], tree, alpha)
        for c in case["contexts"]:  # a repeated context word gets e once per occurrence
            W[c] += e
    return W, O, H, loss


def check_descent(W, O, H, tree):
    # Alpha 0 evaluates the loss without moving anything; a small step must lower it.
    case = CASES[0]
    _, _, _, before = update(W, O, H, case, tree, 0.0)
    W1, O1, H1, _ = update(W, O, H, case, tree, 1e-4)
    _, _, _, after = update(W1, O1, H1, case, tree, 0.0)
    assert after < before, (before, after)


def write_json(path, obj):
    # One matrix row per line keeps the file small and diffable; json writes floats with repr.
    def emit(x, indent):
        pad = " " * indent
        if isinstance(x, dict):
            items = [f'{pad} {json.dumps(k)}: {emit(v, indent + 1)}' for k, v in x.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(x, list) and x and isinstance(x[0], (list, dict)):
            rows = [pad + " " + emit(r, indent + 1) for r in x]
            return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
        return json.dumps(x)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(emit(obj, 0) + "\n")


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "tests", "fixtures", "word2vec", "one_update.json")
    rng = np.random.default_rng(SEED)
    W = rng.uniform(-0.5, 0.5, (V, D))
    O = rng.uniform(-0.5, 0.5, (V, D))
    H = rng.uniform(-0.5, 0.5, (V - 1, D))
    tree = huffman(COUNTS)
    for w, (p, c) in enumerate(zip(*tree)):
        print(f"word {w} (count {COUNTS[w]}): points {p} codes {c}")
    check_descent(W, O, H, tree)

    fixture = dict(vocab_size=V, dim=D, counts=COUNTS, alpha=ALPHA,
                   W=W.tolist(), O=O.tolist(), H=H.tolist(),
                   huffman=dict(points=tree[0], codes=tree[1]), cases=[])
    for case in CASES:
        W1, O1, H1, loss = update(W, O, H, case, tree, ALPHA)
        fixture["cases"].append(dict(case, W=W1.tolist(), O=O1.tolist(), H=H1.tolist(),
                                     loss=float(loss)))
        print(f"{case['name']}: loss {float(loss)!r}")
    write_json(out, fixture)


if __name__ == "__main__":
    main()
