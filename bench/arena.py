#!/usr/bin/python3
"""Planned arena bytes vs the reference interpreter's, for every golden model.

Writes bench/results/arena.md. Usage: bench/arena.py [TINYFORGE] [SHARED]
"""
import json
import os
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
tf = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/host/tinyforge")
shared = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("TINYFORGE_SHARED", os.path.join(root, "../shared"))
golden = os.path.join(shared, "golden")
if not os.path.isdir(golden):
    sys.exit(f"arena: {golden} not found: set TINYFORGE_SHARED to the shared/ folder")

anchors = {}
anchor_file = os.path.join(shared, "anchors/tflm_cortex_m4.json")
if os.path.exists(anchor_file):
    anchors = json.load(open(anchor_file))["models"]

rows = []
for name in sorted(os.listdir(golden)):
    manifest_path = os.path.join(golden, name, "manifest.json")
    if not os.path.exists(manifest_path):
        continue
    manifest = json.load(open(manifest_path))
    model = os.path.join(shared, manifest.get("model", f"models/{name}.tflite"))
    out = subprocess.run([tf, "inspect", "--json", model], capture_output=True, text=True)
    ours = json.loads(out.stdout)["arena_bytes"] if out.returncode == 0 else None
    if manifest.get("status") != "ok":
        rows.append(f"| {name} | {ours if ours is not None else 'error'} | reference: {manifest.get('status')} | – | – | – |")
        continue
    if ours is None:
        rows.append(f"| {name} | error | {manifest['arena_used_bytes']} | – | – | {out.stderr.strip()} |")
        continue
    ref = manifest["arena_used_bytes"]
    m4 = anchors.get(name, {}).get("arena_used_bytes")
    m4_text = f"{m4}" if m4 else "–"
    m4_ratio = f"{ours / m4:.2f}" if m4 else "–"
    rows.append(f"| {name} | {ours} | {ref} | {ours / ref:.2f} | {m4_text} | {m4_ratio} |")

with open(os.path.join(root, "bench/results/arena.md"), "w") as f:
    f.write("# Planned arena bytes\n\n")
    f.write("Ours: `tinyforge inspect --json` `arena_bytes` (activations + scratch; tensor metadata lives in flash).\n")
    f.write("Reference: the golden manifest's `arena_used_bytes` (TFLM reference kernels, x86-64 host build,\n")
    f.write("includes its 64-bit metadata) and, where measured, the Cortex-M4 anchor (TFLM + CMSIS-NN, 32-bit).\n")
    f.write("These are host plans (reference kernels); plans for `--target cortex-m4` (DSP kernels that run\n")
    f.write("in place) are smaller still: see `performance.md` and `mlperf_tiny.md`.\n\n")
    f.write("| model | ours (B) | reference host (B) | ours / host | reference M4 (B) | ours / M4 |\n")
    f.write("|---|---:|---:|---:|---:|---:|\n")
    f.write("\n".join(rows) + "\n")
print(open(os.path.join(root, "bench/results/arena.md")).read())
