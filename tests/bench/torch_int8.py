"""What gpt_torch.py and bert_torch.py share for --int8: PyTorch's dynamic
int8 quantization of a model's nn.Linear layers (engine onednn), the check
of its logits against fp32's, and the fp32 and int8 forwards timed
alternately. Needs Debian's python3-torch."""
import statistics
import sys
import time

import torch
import torch.nn as nn


def quantize(model, weights, who):
    """model's nn.Linear layers in dynamic int8 (per-channel or per-tensor weights), a new model;
    says on stderr how many were quantized, and exits when none were."""
    torch.backends.quantized.engine = "onednn"
    qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if weights == "per-channel"
               else torch.ao.quantization.default_dynamic_qconfig)
    qmodel = torch.ao.quantization.quantize_dynamic(model, {nn.Linear: qconfig}, dtype=torch.qint8)
    try:
        qlinear = torch.ao.nn.quantized.dynamic.Linear
    except AttributeError:  # torch 1.13 keeps it under torch.nn
        qlinear = torch.nn.quantized.dynamic.Linear
    quantized = sum(isinstance(m, qlinear) for m in qmodel.modules())
    left = sum(type(m) is nn.Linear for m in qmodel.modules())
    print("quantize_dynamic (%s weights, engine %s): %d dynamic int8 Linear modules, %d nn.Linear left fp32"
          % (weights, torch.backends.quantized.engine, quantized, left), file=sys.stderr)
    if quantized == 0:
        sys.exit("%s: quantize_dynamic quantized nothing" % who)
    return qmodel


def compare(what, want, got):
    """Prints how far logits got are from want on stderr."""
    a, b = want.double().flatten(), got.double().flatten()
    cos = float(a @ b / (a.norm() * b.norm()))
    agree = float((want.argmax(-1) == got.argmax(-1)).double().mean())
    print("%s: max abs diff %.3g (logits' max abs %.3g), cosine %.6f, argmax agrees at %.1f%% of positions"
          % (what, float((a - b).abs().max()), float(a.abs().max()), cos, 100 * agree), file=sys.stderr)


def time_forwards(model, qmodel, ids, steps):
    """The fp32 and int8 forwards of ids, alternately so that both see the same load, after one
    untimed round; prints the median of each as bench_gpt and bench_bert print theirs."""
    B, T = ids.shape
    fwd, qfwd = [], []
    with torch.inference_mode():
        for s in range(-1, steps):
            t0 = time.perf_counter()
            model(ids)
            t1 = time.perf_counter()
            qmodel(ids)
            t2 = time.perf_counter()
            if s >= 0:
                fwd.append(t1 - t0)
                qfwd.append(t2 - t1)
    fw, qf = statistics.median(fwd), statistics.median(qfwd)
    print("forward        batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * fw, B * T / fw))
    print("forward (int8) batch %d x %d: %8.1f ms  (%.0f tokens/s)" % (B, T, 1e3 * qf, B * T / qf))
