#!/usr/bin/env python3
"""Our own keyword model (examples/keywords) measured: float32 against int8 accuracy on the
voices it never heard, per class and per voice, the int8 confusion matrix, and `listen` on
a sentence of a held-out voice, on the host and on the emulated Cortex-M4 and M7.

The float32 row runs keywords.onnx as tinyforge's float plan on the host runtime; the int8
row quantizes it with the calibration split (`quantize --io int8`), compiles it with its
front-end (`compile --frontend frames=49`), computes the test clips' int8 features with
that plan's own front-end (`features --model`, what the device computes) and runs them.

usage: bench/keywords.py [--tinyforge build/host/tinyforge] [--out bench/results/audio.md]
Writes (replaces) the section SECTION of --out; bench/audio.py calls section() when it
writes the whole file. Makes examples/keywords/data first when it is missing (make_data.py,
about 2 minutes). Needs numpy; exits 1 when a run fails.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples/keywords")
sys.path.insert(0, EXAMPLE)
import keywords_data as kd  # noqa: E402

SECTION = "## Our own keyword model (examples/keywords)"
SENTENCE = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
SENTENCE_VOICE = "en-us+m3"  # m3: a test voice
CORES = [("cortex-m4", "STM32F446RE"), ("cortex-m7", "")]


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"keywords.py: {' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return r.stdout


def run_json(cmd):
    out = run(cmd + ["--json", "--quiet"])
    return json.loads(out[out.index("{"):])


def predictions(tf, model, inputs, tmp, dtype):
    out = os.path.join(tmp, os.path.basename(model) + ".probs")
    run([tf, "run", model, "--input", inputs, "--output", out, "--quiet"])
    return np.fromfile(out, dtype=dtype).reshape(-1, len(kd.LABELS)).argmax(axis=1)


def percent(hits, total):
    return f"{100 * hits / total:.1f}% ({hits}/{total})"


def section(tf):
    """The section's lines (markdown)."""
    data = os.path.join(EXAMPLE, "data")
    if not os.path.exists(os.path.join(data, "test.bin")):
        run(["/usr/bin/python3", os.path.join(EXAMPLE, "make_data.py"), "--tinyforge", tf])
    onnx = os.path.join(EXAMPLE, "keywords.onnx")
    shape = run_json([tf, "inspect", onnx])
    labels = np.fromfile(os.path.join(data, "test_labels.bin"), dtype=np.uint8)
    with open(os.path.join(data, "test_voices.txt")) as f:
        voices = [line.split()[0] for line in f]
    with tempfile.TemporaryDirectory() as tmp:
        float_pred = predictions(tf, onnx, os.path.join(data, "test.bin"), tmp, "<f4")
        quantized = os.path.join(tmp, "keywords_int8.tflite")
        q = run_json([tf, "quantize", onnx, "--calibration", os.path.join(data, "calibration.bin"),
                      "--io", "int8", "-o", quantized])
        blob = os.path.join(tmp, "keywords.tfp")
        c = run_json([tf, "compile", quantized, "--frontend", "frames=49", "-o", blob])
        wavs = sorted(glob.glob(os.path.join(data, "test_wav", "*.wav")))
        int8_features = os.path.join(tmp, "test_int8.bin")
        run([tf, "features", "--quiet", "--model", blob, "-o", int8_features] + wavs)
        int8_pred = predictions(tf, blob, int8_features, tmp, np.int8)
        sentence = os.path.join(tmp, "sentence.wav")
        run(["env", f"VOICE={SENTENCE_VOICE}", "GAP=1.0", os.path.join(ROOT, "scripts/keyword-wav"),
             sentence] + SENTENCE)
        listen_args = ["--wav", sentence, "--labels", ",".join(kd.LABELS)]
        host = run_json([tf, "listen", blob] + listen_args)
        cores = []
        for target, board in CORES:
            core_blob = os.path.join(tmp, f"keywords_{target}.tfp")
            run([tf, "compile", quantized, "--frontend", "frames=49", "--target", target, "-o",
                 core_blob, "--quiet"])
            cores.append(run_json([tf, "listen", core_blob] + listen_args +
                                  ["--target", target, "--board", board]))

    n = len(labels)
    lines = [
        SECTION,
        "",
        "A DS-CNN trained here on speech synthesized here (examples/keywords/README.md):",
        f"{len(kd.LABELS)} classes ({', '.join(kd.LABELS)}), one second of micro_speech's",
        "front-end features (49 frames x 40 channels). Test: "
        f"{n} clips of the voices {', '.join(kd.VOICES['test'])}, which never speak in the",
        "training or calibration clips. float32: keywords.onnx as tinyforge's float plan on",
        "the host; int8: quantized with the calibration split (`quantize --io int8`, "
        f"{q['weight_bytes_after']:,} weight bytes, {q['calibration_cases']} calibration clips),",
        f"compiled with its front-end ({c['blob_bytes']:,}-byte plan, arena "
        f"{c['arena_bytes']:,} B), fed the int8 features its own front-end computes "
        "(`tinyforge features --model`).",
        "",
        "| run | top-1 on held-out voices |",
        "|---|---:|",
        f"| float32 | {percent(int((float_pred == labels).sum()), n)} |",
        f"| int8 | {percent(int((int8_pred == labels).sum()), n)} |",
        f"| int8 agrees with float32 | {percent(int((int8_pred == float_pred).sum()), n)} |",
        "",
        "| class | clips | float32 recall | int8 recall |",
        "|---|---:|---:|---:|",
    ]
    for k, name in enumerate(kd.LABELS):
        mine = labels == k
        lines.append(f"| {name} | {int(mine.sum())} | "
                     f"{100 * (float_pred[mine] == k).mean():.1f}% | "
                     f"{100 * (int8_pred[mine] == k).mean():.1f}% |")
    lines += ["", "| voice | clips | float32 | int8 |", "|---|---:|---:|---:|"]
    for v in kd.VOICES["test"]:
        mine = np.array(voices) == v
        lines.append(f"| {v} | {int(mine.sum())} | "
                     f"{100 * (float_pred[mine] == labels[mine]).mean():.1f}% | "
                     f"{100 * (int8_pred[mine] == labels[mine]).mean():.1f}% |")
    lines += ["", "int8 confusion matrix (rows: the spoken class, columns: the model's answer):",
              "", "| | " + " | ".join(kd.LABELS) + " |",
              "|---|" + "---:|" * len(kd.LABELS)]
    matrix = np.zeros((len(kd.LABELS), len(kd.LABELS)), dtype=int)
    np.add.at(matrix, (labels, int8_pred), 1)
    for k, name in enumerate(kd.LABELS):
        lines.append(f"| **{name}** | " + " | ".join(str(x) for x in matrix[k]) + " |")
    heard = ", ".join(f"{d['label']} at {d['time_s']:.2f} s ({d['score']:.2f})"
                      for d in host["detections"]) or "nothing"
    lines += [
        "",
        f"`listen` on \"{' '.join(SENTENCE)}\" spoken by the held-out voice {SENTENCE_VOICE}",
        f"(`scripts/keyword-wav`, 1 s gaps, {host['seconds']:.1f} s, {host['frames']} frames;",
        f"listen's defaults): {len(host['detections'])} detections: {heard}.",
        "",
        "On the emulated cores, the plan compiled for each (`compile --target`; features and",
        "scores equal to the host's byte for byte), one inference per 20 ms frame as `listen`",
        "runs it:",
        "",
        "| core | board (clock) | front-end cycles/frame | model cycles/inference "
        "| per 20 ms frame | real-time factor | energy per hour of listening |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for (target, _), r in zip(CORES, cores):
        frame_ms = (r["frontend_cycles_per_frame"] + r["model_cycles_per_inference"]) / \
            r["clock_mhz"] / 1000
        lines.append(
            f"| {target} | {r['board']} ({r['clock_mhz']:g} MHz) | "
            f"{r['frontend_cycles_per_frame']:,.0f} | {r['model_cycles_per_inference']:,.0f} | "
            f"{frame_ms:.2f} ms | {r['realtime_factor']:.4f} | {r['energy_per_hour_j']:.2f} J |")
    largest = max(shape["ops"], key=lambda op: op["macs"])
    slowest = max(r["realtime_factor"] for r in cores)
    pace = (f"inferring every {math.ceil(slowest)} frames instead would keep up on every core "
            "above" if slowest > 1 else "every core above keeps up")
    lines += [
        "",
        f"The model: {shape['macs']:,} MACs per inference, {shape['params']:,} parameters; its",
        f"largest layer, the first {largest['op']} (one input channel), has "
        f"{largest['macs']:,} of them.",
        "A real-time factor above 1 means the core cannot infer on every 20 ms frame; "
        f"{pace} (`listen` itself always infers per frame).",
    ]
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tinyforge", default=os.path.join(ROOT, "build/host/tinyforge"))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench/results/audio.md"))
    a = ap.parse_args()
    text = open(a.out).read() if os.path.exists(a.out) else ""
    kept = text.split(SECTION)[0].rstrip("\n")
    lines = section(a.tinyforge)
    with open(a.out, "w") as f:
        f.write((kept + "\n\n" if kept else "") + "\n".join(lines) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
