#!/usr/bin/python3
"""int8 post-training quantization and pruning accuracy, through the CLI.

Writes bench/results/quantization.md. Usage: bench/quantization.py [TINYFORGE] [SHARED]

1. The float models with golden data: `tinyforge quantize` with the golden in0.bin as the
   calibration set, `tinyforge run` on the same inputs, output SQNR against the float golden
   outputs and top-1 agreement; kws_ref_model_float32 (weight-only quantized) against our
   own float run on the int8 KWS golden inputs dequantized with their scale and zero point.
2. examples/digits: top-1 accuracy on the held-out test set, float vs int8, and pruning
   (unstructured 50% with and without the least-squares refit, structured).
"""
import json
import os
import re
import sys
import tempfile

import numpy as np

from tinyforge_cli import Tinyforge, digits_data

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/host/tinyforge")
shared = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("TINYFORGE_SHARED", os.path.join(root, "../shared"))
work = tempfile.mkdtemp(prefix="tinyforge-quant-")
METHODS = ["minmax", "percentile", "mse"]


cli = Tinyforge(tf, work)
run = cli.run


def quantize(model, calibration, name, *extra):
    out = os.path.join(work, f"{name}.tflite")
    cli("quantize", model, "--calibration", calibration, "-o", out, *extra)
    return out


def compiled(model):
    """(arena bytes, plan blob bytes) from `tinyforge compile`."""
    text = cli("compile", model, "-o", os.path.join(work, "m.tfp"))
    m = re.search(r"arena (\d+) bytes, blob (\d+) bytes", text)
    return int(m.group(1)), int(m.group(2))


def sqnr_db(ref, test):
    noise = float(((ref.astype(np.float64) - test) ** 2).sum())
    return float("inf") if noise == 0 else 10 * np.log10(float((ref.astype(np.float64) ** 2).sum()) / noise)


def top1(ref, test, cases):
    return float((ref.reshape(cases, -1).argmax(1) == test.reshape(cases, -1).argmax(1)).mean())


def golden_rows():
    golden = os.path.join(shared, "golden")
    if not os.path.isdir(golden):
        return [], f"{golden} not found: set TINYFORGE_SHARED to the shared/ folder"
    cases_spec = []
    for name in ["pretrainedResnet", "vww_96_float", "ad01_fp32", "hello_world_float"]:
        d = os.path.join(golden, name)
        manifest = json.load(open(os.path.join(d, "manifest.json")))
        ref = np.fromfile(os.path.join(d, "out0.bin"), "<f4")
        cases_spec.append((name, os.path.join(shared, manifest["model"]), os.path.join(d, "in0.bin"), ref,
                           manifest["cases"], "golden out0.bin"))
    # KWS: the int8 golden inputs, dequantized, and our own float run as the reference.
    kws = json.load(open(os.path.join(golden, "kws_ref_model", "manifest.json")))
    spec = kws["inputs"][0]
    q = np.fromfile(os.path.join(golden, "kws_ref_model", "in0.bin"), np.int8).astype(np.float32)
    kws_in = os.path.join(work, "kws_in_f32.bin")
    ((q - spec["zero_point"]) * spec["scale"]).astype("<f4").tofile(kws_in)
    kws_model = os.path.join(shared, "models", "kws_ref_model_float32.tflite")
    cases_spec.append(("kws_ref_model_float32", kws_model, kws_in, run(kws_model, [kws_in]), kws["cases"],
                       "our float run"))

    rows = []
    for name, model, calibration, ref, cases, against in cases_spec:
        sq = {}
        for method in METHODS:
            qm = quantize(model, calibration, f"{name}_{method}", "--method", method)
            out = run(qm, [calibration])
            sq[method] = sqnr_db(ref, out)
            if method == "minmax":
                agree = top1(ref, out, cases)
                q_arena, q_blob = compiled(qm)
        plain = run(quantize(model, calibration, f"{name}_nobc", "--no-bias-correction"), [calibration])
        f_arena, f_blob = compiled(model)
        rows.append(f"| {name} | {cases} | {against} | **{sq['minmax']:.2f}** | {sq['percentile']:.2f} | "
                    f"{sq['mse']:.2f} | {sqnr_db(ref, plain):.2f} | {100 * agree:.1f}% | "
                    f"{f_blob:,} → {q_blob:,} | {f_arena:,} → {q_arena:,} |")
        print(rows[-1], flush=True)
    return rows, None


def digits_rows():
    model, calibration, test, labels = digits_data(root)

    def accuracy(m):
        return 100.0 * float((run(m, [test]).reshape(len(labels), -1).argmax(1) == labels).mean())

    def line(what, m, extra=""):
        arena, blob = compiled(m)
        row = f"| {what} | {accuracy(m):.2f}% | {arena:,} | {blob:,} | {extra} |"
        print(row, flush=True)
        return row

    def prune(name, *args):
        out = os.path.join(work, f"{name}.tflite")
        text = cli("prune", model, *args, "-o", out)
        macs = re.search(r"MACs\s+(\d+)\s+(\d+)", text)
        params = re.search(r"params\s+(\d+)\s+(\d+)", text)
        return out, f"MACs {int(macs.group(2)):,}, params {int(params.group(2)):,}"

    rows = [line("float32 (ONNX import)", model, "MACs, params: see above")]
    for method in METHODS:
        rows.append(line(f"int8, {method}", quantize(model, calibration, f"digits_{method}", "--method", method)))
    sparse, _ = prune("digits_p50", "--sparsity", "0.5")
    rows.append(line("50% unstructured, magnitude only", sparse))
    refit, _ = prune("digits_r50", "--sparsity", "0.5", "--calibration", calibration)
    rows.append(line("**50% unstructured + least-squares refit**", refit))
    rows.append(line("50% unstructured + refit, then int8", quantize(refit, calibration, "digits_r50_q")))
    for s in ["0.25", "0.5"]:
        structured, figures = prune(f"digits_s{s}", "--sparsity", s, "--structured")
        rows.append(line(f"structured {float(s) * 100:.0f}% of channels", structured, figures))
        refit, figures = prune(f"digits_sr{s}", "--sparsity", s, "--structured", "--calibration", calibration)
        rows.append(line(f"structured {float(s) * 100:.0f}% of channels + refit", refit, figures))
    info = cli("inspect", model)
    macs = re.search(r"macs: (\d+)\s+params: (\d+)", info)
    return rows, f"MACs {int(macs.group(1)):,}, params {int(macs.group(2)):,}", len(labels)


golden, golden_error = golden_rows()
digits, digits_figures, test_cases = digits_rows()

path = os.path.join(root, "bench/results/quantization.md")
with open(path, "w") as f:
    f.write("# int8 post-training quantization and pruning\n\n")
    f.write("Generated by `bench/quantization.py` (run by `scripts/bench`). Every figure comes from the CLI: "
            "`tinyforge quantize` (TFLite int8 conventions: per-channel symmetric conv weights, per-tensor "
            "FullyConnected weights, per-tensor asymmetric activations, int32 bias; bias correction on), "
            "`tinyforge prune`, `tinyforge compile` and `tinyforge run` (the device runtime on the host).\n\n")
    f.write("## Float models with golden data\n\n")
    if golden_error:
        f.write(f"Skipped: {golden_error}\n\n")
    else:
        f.write("Calibration set = the golden `in0.bin` (16 cases: case 0 all zeros, the rest uniform in [-1, 1]); "
                "the quantized model (float I/O) runs on the same inputs. SQNR = 10 log10(Σ ref² / Σ (ref − ours)²) "
                "over all cases and outputs; **the requirement is ≥ 20 dB with the default method (minmax)**. "
                "Top-1 agreement: cases whose largest output has the same index (ad01 and hello_world are "
                "regressions, so it says little there). The last columns are the plan blob (flash) and arena "
                "of the float model → the int8 one.\n\n")
        f.write("| model | cases | reference | SQNR minmax (dB) | percentile 99.99 | mse | minmax without bias "
                "correction | top-1 agreement | plan blob (B) | arena (B) |\n")
        f.write("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
        f.write("\n".join(golden) + "\n\n")
    f.write("## examples/digits\n\n")
    f.write(f"Held-out test set: {test_cases} images of scikit-learn's digits (`examples/digits/prepare_data.py`); "
            "calibration: the 200 separate calibration images. Float model: "
            f"{digits_figures}. **Requirements: int8 within 1.0 point of float; 50% unstructured sparsity within "
            "2 points.** Unstructured pruning zeroes the 50% smallest weights of every layer; structured "
            "pruning removes the output channels with the smallest L2 norm (and the next layer's inputs); the "
            "refit (`--calibration`) re-solves the remaining weights by least squares against the dense "
            "model's layer outputs (no labels, no training).\n\n")
    f.write("| model | top-1 accuracy | arena (B) | plan blob (B) | notes |\n|---|---:|---:|---:|---|\n")
    f.write("\n".join(digits) + "\n")
print(open(path).read())
