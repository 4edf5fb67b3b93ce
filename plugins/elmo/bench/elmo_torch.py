#!/usr/bin/python3
"""The PyTorch peer of the elmo plugin's benchmark (issue 13, Performance): an eager ELMo biLM in
float32, batched, written from the issue's description (the per-sentence float64 model in
plugins/elmo/tests/reference/elmo_reference.py pins down the same semantics), at the issue's
benchmark configuration:

- word encoder: character embedding 16 (262 ids, id 0 the zero padding row), 50 characters a
  token, char-CNN with 2,048 filters (widths 1-7: 32, 32, 64, 128, 256, 512, 1024), "valid"
  convolutions, max over time, relu; one highway layer (bilm-tf's convention: carry gate
  g = sigmoid(x W_carry + b_carry), y = g * relu(x W_transform + b_transform) + (1 - g) * x);
  a linear projection to 128.
- two one-direction 2-layer LSTMP stacks (forward over positions 0..T-1, backward over T-1..0,
  separate weights, each from a zero state): cell 512, projection 128, gates in TensorFlow order
  i, j, f, o with the +1 forget bias, cell_clip 3 and proj_clip 3, the skip connection around
  layer 2. A step-by-step cell loop: torch.nn.LSTM cannot clip, and a bidirectional nn.LSTM is
  a different network. Each layer's input product x W_x runs once for the whole sequence
  (one [B*T, in] x [in, 4*512] matmul, as nn.LSTM does it internally); only h W_h, the gates,
  the clips and the projection run per step.
- loss: the forward LM predicts token t+1 at every position t (T targets), the backward LM
  predicts token t-1 at positions 1..T-1 (the host's ZOO_OBJ_BIDIRECTIONAL_LM batch: position 0
  has no backward target); each direction's top layer (skip included) goes through one full
  softmax over the 10,000-word vocabulary, shared by both directions; the loss is the mean of the
  two directions' mean cross entropies.
- training step: forward, backward, torch.optim.Adam (lr 1e-3, no gradient clipping).
- embed: the forward pass without the softmax under torch.no_grad(): the three layers
  [3, B, T, 2*128] (layer 0 = the word encoder output twice, layers 1, 2 = forward || backward).

Data: synthetic and seeded (the speed does not depend on it): each of the 10,000 words gets a
random spelling of 1-12 bytes in the character layout ([BOW, bytes, EOW, PAD...] shifted by +1);
each batch row is T+1 random word ids, the first T the input, the last T the forward targets.

    /usr/bin/python3 plugins/elmo/bench/elmo_torch.py [--threads N] [--steps N] [--warmup N]
                                                      [--part train|embed|all]

Output, one line per measurement (medians over the steps after warm-up; tokens = B * T):
    training step  batch 16 x 32:   XXXX.X ms  (YYY tokens/s)
    embed (forward, no grad)  batch 16 x 32:   XXXX.X ms  (YYY tokens/s)
Run it with OMP_WAIT_POLICY=PASSIVE beside zoo (see README.md). Needs Debian's python3-torch.
"""
import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

B, T = 16, 32  # batch rows x tokens
MAX_CHARS = 50
N_CHARS = 262  # ids 1..261 after the +1 shift, 0 = padded token position
CHAR_DIM = 16
FILTERS = [(1, 32), (2, 32), (3, 64), (4, 128), (5, 256), (6, 512), (7, 1024)]
N_HIGHWAY = 1
DIM, PROJ = 512, 128  # LSTM cell, projection (= word encoder output)
CELL_CLIP, PROJ_CLIP = 3.0, 3.0
VOCAB = 10000
BOW_CHAR, EOW_CHAR, PAD_CHAR = 258, 259, 260


class CharEncoder(nn.Module):
    """Character ids [N, MAX_CHARS] -> token vectors [N, PROJ]."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(N_CHARS, CHAR_DIM, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(CHAR_DIM, n, w) for w, n in FILTERS)
        nf = sum(n for _, n in FILTERS)
        self.carry = nn.ModuleList(nn.Linear(nf, nf) for _ in range(N_HIGHWAY))
        self.transform = nn.ModuleList(nn.Linear(nf, nf) for _ in range(N_HIGHWAY))
        self.proj = nn.Linear(nf, PROJ)

    def forward(self, chars):
        x = self.embed(chars).transpose(1, 2)  # [N, E, C]
        h = torch.cat([torch.relu(conv(x).amax(-1)) for conv in self.convs], -1)  # [N, 2048]
        for carry, transform in zip(self.carry, self.transform):
            g = torch.sigmoid(carry(h))
            h = g * torch.relu(transform(h)) + (1.0 - g) * h
        return self.proj(h)


class LSTMP(nn.Module):
    """One LSTMP layer with cell and projection clipping, stepped in Python over time."""

    def __init__(self, in_dim):
        super().__init__()
        self.wx = nn.Linear(in_dim, 4 * DIM)  # [x; h] W_0 + B, split in two products
        self.wh = nn.Linear(PROJ, 4 * DIM, bias=False)
        self.wp = nn.Linear(DIM, PROJ, bias=False)  # W_P_0
        with torch.no_grad():  # TF order i, j, f, o; the loader's forget bias +1, here at init
            self.wx.bias[2 * DIM : 3 * DIM] += 1.0

    def forward(self, xs):
        """xs [B, T, in] in the direction's order -> [B, T, PROJ]."""
        nb, nt, _ = xs.shape
        zx = self.wx(xs)  # [B, T, 4D]: the input half for every step at once
        c = xs.new_zeros(nb, DIM)
        h = xs.new_zeros(nb, PROJ)
        out = []
        for t in range(nt):
            z = zx[:, t] + self.wh(h)
            i, j, f, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(j)
            c = c.clamp(-CELL_CLIP, CELL_CLIP)
            h = self.wp(torch.sigmoid(o) * torch.tanh(c)).clamp(-PROJ_CLIP, PROJ_CLIP)
            out.append(h)
        return torch.stack(out, 1)


class Stack(nn.Module):
    """One direction: two LSTMP layers, the skip connection around the second."""

    def __init__(self):
        super().__init__()
        self.l0, self.l1 = LSTMP(PROJ), LSTMP(PROJ)

    def forward(self, xs):
        h0 = self.l0(xs)
        return h0, self.l1(h0) + h0


class BiLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = CharEncoder()
        self.fw, self.bw = Stack(), Stack()
        self.softmax = nn.Linear(PROJ, VOCAB)  # shared by both directions

    def layers(self, chars):
        """chars [B, T, MAX_CHARS] -> token vectors [B, T, P], (fw h0, fw h1), (bw h0, bw h1)
        with every output in sentence order."""
        nb, nt, nc = chars.shape
        tok = self.encoder(chars.reshape(nb * nt, nc)).reshape(nb, nt, PROJ)
        f0, f1 = self.fw(tok)
        b0, b1 = self.bw(tok.flip(1))
        return tok, (f0, f1), (b0.flip(1), b1.flip(1))

    def embed(self, chars):
        """[3, B, T, 2P]: layer 0 = [tok; tok], layers 1, 2 = [forward; backward]."""
        tok, (f0, f1), (b0, b1) = self.layers(chars)
        return torch.stack([torch.cat([tok, tok], -1), torch.cat([f0, b0], -1), torch.cat([f1, b1], -1)])

    def loss(self, chars, ids, targets):
        _, (_, f1), (_, b1) = self.layers(chars)
        fw = F.cross_entropy(self.softmax(f1.reshape(-1, PROJ)), targets.reshape(-1))
        bw = F.cross_entropy(self.softmax(b1[:, 1:].reshape(-1, PROJ)), ids[:, :-1].reshape(-1))
        return 0.5 * (fw + bw)


def synthetic_batch(gen):
    """(chars [B, T, MAX_CHARS], ids [B, T], targets [B, T]) from a seeded generator."""
    lengths = torch.randint(1, 13, (VOCAB,), generator=gen)
    spell = torch.full((VOCAB, MAX_CHARS), PAD_CHAR, dtype=torch.long)
    spell[:, 0] = BOW_CHAR
    for w in range(VOCAB):
        n = int(lengths[w])
        spell[w, 1 : 1 + n] = torch.randint(0, 256, (n,), generator=gen)
        spell[w, 1 + n] = EOW_CHAR
    spell += 1  # the +1 shift: 0 is the padded token position
    rows = torch.randint(0, VOCAB, (B, T + 1), generator=gen)
    ids, targets = rows[:, :T].contiguous(), rows[:, 1:].contiguous()
    return spell[ids], ids, targets


def timed(fn, warmup, steps):
    times = []
    for s in range(warmup + steps):
        t0 = time.perf_counter()
        fn()
        if s >= warmup:
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--part", choices=["train", "embed", "all"], default="all")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(20261203)
    steps, warmup = max(a.steps, 1), max(a.warmup, 0)
    gen = torch.Generator().manual_seed(13)
    chars, ids, targets = synthetic_batch(gen)
    model = BiLM()
    n = sum(p.numel() for p in model.parameters())
    print("pytorch %s elmo biLM benchmark: %d threads, median of %d steps after %d warm-up"
          % (torch.__version__, a.threads, steps, warmup))
    print("config  char-CNN %d filters %s, char dim %d, %d highway, LSTMP %d/%d x 2 layers x 2 directions "
          "(clip %g/%g, skip), vocabulary %d full softmax; %d parameters"
          % (sum(n for _, n in FILTERS), [w for w, _ in FILTERS], CHAR_DIM, N_HIGHWAY, DIM, PROJ,
             CELL_CLIP, PROJ_CLIP, VOCAB, n))
    N = B * T
    if a.part in ("train", "all"):
        model.train()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        losses = []

        def step():
            loss = model.loss(chars, ids, targets)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss))

        tr = timed(step, warmup, steps)
        print("training step  batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * tr, N / tr))
        print("training loss  first %.4f, last %.4f (ln %d = %.4f)"
              % (losses[0], losses[-1], VOCAB, torch.log(torch.tensor(float(VOCAB)))))
    if a.part in ("embed", "all"):
        model.eval()

        def fwd():
            with torch.no_grad():
                model.embed(chars)

        fw = timed(fwd, warmup, steps)
        print("embed (forward, no grad)  batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * fw, N / fw))


if __name__ == "__main__":
    main()
