#!/usr/bin/env python3
"""gensim's Word2Vec on a pre-tokenized corpus (one sentence a line), for
compare_word2vec.sh: builds the vocabulary, trains, saves the vectors in
word2vec's binary format and prints one JSON line with the figures:
train_seconds (the train() call only), vocab_seconds, words (raw corpus
words), effective_words (words trained after subsampling, as gensim
reports them), vocab_size, and the settings.

    w2v_gensim.py CORPUS OUT.bin [--sg 1] [--size 100] [--window 5] ...
"""
import argparse
import json
import logging
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("output", help="vectors, word2vec binary format")
    p.add_argument("--sg", type=int, default=1, choices=(0, 1))
    p.add_argument("--size", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--hs", type=int, default=0, choices=(0, 1))
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--alpha", type=float, default=None,
                   help="start learning rate (default 0.025 for sg, 0.05 for cbow)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--verbose", action="store_true", help="gensim's INFO log on stderr")
    a = p.parse_args()
    if a.alpha is None:
        a.alpha = 0.025 if a.sg else 0.05
    if a.verbose:
        logging.basicConfig(format="%(asctime)s %(message)s", level=logging.INFO)

    from gensim.models import Word2Vec
    from gensim.models.word2vec import FAST_VERSION, LineSentence
    import gensim
    if FAST_VERSION < 0:
        print("w2v_gensim: warning: gensim's compiled (Cython) routines are missing",
              file=sys.stderr)

    sentences = LineSentence(a.corpus)
    model = Word2Vec(vector_size=a.size, window=a.window, min_count=a.min_count,
                     sg=a.sg, hs=a.hs, negative=a.negative, sample=a.sample,
                     workers=a.threads, alpha=a.alpha, seed=a.seed)
    t0 = time.perf_counter()
    model.build_vocab(sentences)
    vocab_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    effective, raw = model.train(sentences, total_examples=model.corpus_count,
                                 epochs=a.epochs)
    train_seconds = time.perf_counter() - t0
    model.wv.save_word2vec_format(a.output, binary=True)
    print(json.dumps({
        "tool": "gensim", "version": gensim.__version__, "fast_version": FAST_VERSION,
        "train_seconds": round(train_seconds, 3), "vocab_seconds": round(vocab_seconds, 3),
        "words": model.corpus_total_words, "sentences": model.corpus_count,
        "epochs": a.epochs, "raw_words_trained": raw, "effective_words": effective,
        "vocab_size": len(model.wv), "sg": a.sg, "size": a.size, "window": a.window,
        "negative": a.negative, "hs": a.hs, "min_count": a.min_count, "sample": a.sample,
        "threads": a.threads, "alpha": a.alpha}))


if __name__ == "__main__":
    main()
