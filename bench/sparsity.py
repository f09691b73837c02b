#!/usr/bin/python3
"""Pruning that pays: flash, cycles and accuracy at 0/50/75/90% unstructured sparsity.

Writes bench/results/sparsity.md. Usage: bench/sparsity.py [TINYFORGE] [SHARED]

Every figure comes from the CLI: `tinyforge prune` (magnitude pruning per layer),
`tinyforge quantize`, `tinyforge bench --target cortex-m4` (the emulated Cortex-M4:
instructions, estimated cycles, code and model flash; the device's output is checked against
the host runtime's) and `tinyforge run`. The compiler stores a pruned FullyConnected layer
as FullyConnectedSparse where that saves cycles and flash (compiler/plan/select_kernels.cc);
the table counts the layers it chose.

1. examples/digits: float model pruned with the least-squares refit, then int8; top-1
   accuracy on the held-out test set.
2. ad01_int8 (MLPerf Tiny anomaly detection, ../shared/models): the int8 model pruned as it
   is; its reconstruction compared with the float model's (ad01_fp32) on our own inputs (32
   seeded uniform int8 cases): output SQNR and the correlation of the anomaly scores (mean
   squared reconstruction error), the number the application thresholds.
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
work = tempfile.mkdtemp(prefix="tinyforge-sparsity-")
SPARSITIES = [0.0, 0.5, 0.75, 0.9]


cli = Tinyforge(tf, work)


def prune(model, sparsity, name, *extra):
    if sparsity == 0:
        return model
    out = os.path.join(work, f"{name}.tflite")
    cli("prune", model, "--sparsity", str(sparsity), "-o", out, *extra)
    return out


def device(model):
    """bench figures on the emulated Cortex-M4, and the layers compiled sparse."""
    b = json.loads(cli("bench", model, "--target", "cortex-m4", "--json"))
    plan = os.path.join(work, "m.tfp")
    cli("compile", model, "--target", "cortex-m4", "-o", plan)
    ops = re.findall(r"^\s+\d+ (\w+) in ", cli("inspect", plan), re.M)
    fc = [op for op in ops if op.startswith("FullyConnected")]
    b["sparse_layers"] = f"{fc.count('FullyConnectedSparse')} of {len(fc)}"
    return b


def row(label, b, accuracy, base):
    return (f"| {label} | {b['sparse_layers']} | {b['model_bytes']:,} | {b['code_bytes']:,} | "
            f"{b['flash_bytes']:,} ({b['flash_bytes'] / base['flash_bytes']:.2f}x) | "
            f"{b['instructions']:,} | {b['cycles_estimate']:,} "
            f"({b['cycles_estimate'] / base['cycles_estimate']:.2f}x) | {accuracy} |")


HEADER = ("| sparsity | FC layers sparse | model (B) | code (B) | flash (B) | instructions | "
          "est. cycles | {} |\n|---|---|---:|---:|---:|---:|---:|---|")


def digits_rows():
    model, calibration, test, labels = digits_data(root)
    rows, base = [], None
    for s in SPARSITIES:
        pruned = prune(model, s, f"digits_{s}", "--calibration", calibration)
        q = os.path.join(work, f"digits_{s}_int8.tflite")
        cli("quantize", pruned, "--calibration", calibration, "-o", q)
        b = device(q)
        base = base or b
        acc = (cli.run(q, [test]).reshape(len(labels), -1).argmax(1) == labels).mean()
        rows.append(row(f"{s * 100:.0f}%", b, f"{100 * acc:.2f}%", base))
        print(rows[-1], flush=True)
    return rows


def quant_of(model, which):
    """(scale, zero point) of the model's first input or output, from `tinyforge inspect`."""
    text = cli("inspect", model)
    index = int(re.search(rf"\b{which}: \[(\d+)", text).group(1))
    m = re.search(rf"^\s+{index} int8 .* s=([\d.e-]+) zp=(-?\d+)", text, re.M)
    return float(m.group(1)), int(m.group(2))


def ad01_rows():
    int8_model = os.path.join(shared, "models", "ad01_int8.tflite")
    float_model = os.path.join(shared, "models", "ad01_fp32.tflite")
    if not (os.path.exists(int8_model) and os.path.exists(float_model)):
        print(f"skipped: {int8_model} or {float_model} is missing")
        return None
    cases = 32
    q_in = np.random.default_rng(20261207).integers(-128, 128, (cases, 640), dtype=np.int8)
    in_scale, in_zp = quant_of(int8_model, "inputs")
    out_scale, out_zp = quant_of(int8_model, "outputs")
    q_path, f_path = os.path.join(work, "ad01_in.bin"), os.path.join(work, "ad01_in_f32.bin")
    q_in.tofile(q_path)
    x = (in_scale * (q_in.astype(np.float32) - in_zp)).astype("<f4")
    x.tofile(f_path)
    ref = cli.run(float_model, [f_path]).reshape(cases, -1).astype(np.float64)
    ref_score = ((x - ref) ** 2).mean(1)
    rows, base = [], None
    for s in SPARSITIES:
        pruned = prune(int8_model, s, f"ad01_{s}")
        b = device(pruned)
        base = base or b
        y = out_scale * (cli.run(pruned, [q_path], np.int8).reshape(cases, -1).astype(np.float64) - out_zp)
        sqnr = 10 * np.log10((ref ** 2).sum() / ((ref - y) ** 2).sum())
        r = np.corrcoef(ref_score, ((x - y) ** 2).mean(1))[0, 1]
        rows.append(row(f"{s * 100:.0f}%", b, f"{sqnr:.1f} dB, r = {r:.3f}", base))
        print(rows[-1], flush=True)
    return rows


def main():
    digits = digits_rows()
    ad01 = ad01_rows()
    text = [
        "# Pruning that pays: sparse FullyConnected storage",
        "",
        "Generated by `bench/sparsity.py` (run by `scripts/bench`). Emulated Cortex-M4 "
        "(`tinyforge bench --target cortex-m4`, STM32F446RE figures, generic memory map), "
        "every output checked against the host runtime. A pruned FullyConnected layer is "
        "compiled to FullyConnectedSparse (nonzero weights and byte column steps, rows "
        "padded to four entries; docs/dsp-kernels.md) when the compiler's estimate says it "
        "saves both cycles and flash; convolutions stay dense. Ratios are to the unpruned "
        "model.",
        "",
        "## examples/digits (float, pruned with the least-squares refit, then int8)",
        "",
        "Top-1 accuracy on the 360 held-out test images.",
        "",
        HEADER.format("top-1 accuracy"),
        *digits,
        "",
        "## ad01_int8 (MLPerf Tiny anomaly detection; the int8 model pruned as it is)",
        "",
    ]
    if ad01 is None:
        text.append("Skipped: ../shared/models/ad01_int8.tflite or ad01_fp32.tflite is missing.")
    else:
        text += [
            "Accuracy against the float model (ad01_fp32) on 32 seeded uniform int8 inputs: "
            "output SQNR, and r = correlation of the anomaly scores (mean squared "
            "reconstruction error per input). No fine-tuning after pruning.",
            "",
            HEADER.format("vs float model"),
            *ad01,
        ]
    out = os.path.join(root, "bench", "results", "sparsity.md")
    with open(out, "w") as f:
        f.write("\n".join(text) + "\n")
    print(f"wrote {out}")


main()
