#!/usr/bin/python3
"""The performance table: tinyforge vs TFLM + CMSIS-NN on Cortex-M4, measured by the neutral m4sim.

For kws_ref_model, vww_96_int8, pretrainedResnet_quant and ad01_int8: builds the firmware
(`tinyforge firmware MODEL --target cortex-m4`, which selects the Armv7E-M DSP kernels),
runs it with ../shared/tools/m4sim on golden case 0 (the first case of in0.bin), checks the
output byte for byte against the golden out0.bin, and compares instructions, estimated
cycles, MACs per cycle, RAM (arena + stack) and code bytes with the reference figures of
../shared/anchors/tflm_cortex_m4.json (case 0). Adds geometric means, the issue's targets
and a per-op profile (bench/profile_ops.py) of every model, then writes
bench/results/performance.md.

usage: bench/performance.py [--tinyforge build/host/tinyforge] [--shared ../shared]
                            [--out bench/results/performance.md] [--work DIR]
Exits 1 when a build or run fails or an output is not bit-exact (the table still says so).
"""
import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import profile_ops  # noqa: E402

MODELS = ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"]
TARGETS = {"instructions": (0.6, 0.5), "ram": (0.7, 0.6), "code": (0.5, None)}  # per model, geomean
PEAK_MACS_PER_CYCLE = 2.0  # Cortex-M4: SMLAD, two 16x16 MACs per cycle


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}{p.stdout}")
    return p.stdout


def geomean(values):
    return math.exp(sum(math.log(v) for v in values) / len(values))


def measure(model, tinyforge, shared, work, aot=False):
    manifest = json.load(open(os.path.join(shared, "golden", model, "manifest.json")))
    spec = manifest["inputs"][0]
    case_bytes = 1
    for d in spec["shape"]:
        case_bytes *= d
    with open(os.path.join(shared, "golden", model, spec["file"]), "rb") as f:
        case0 = f.read(case_bytes)
    with open(os.path.join(shared, "golden", model, manifest["outputs"][0]["file"]), "rb") as f:
        out_bytes = 1
        for d in manifest["outputs"][0]["shape"]:
            out_bytes *= d
        want = f.read(out_bytes)
    fw_dir = os.path.join(work, model + ("-aot" if aot else ""))
    run([tinyforge, "firmware", os.path.join(shared, manifest["model"]), "--target", "cortex-m4", "-o", fw_dir] +
        (["--aot"] if aot else []))
    in_path = os.path.join(fw_dir, "case0.bin")
    with open(in_path, "wb") as f:
        f.write(case0)
    elf = os.path.join(fw_dir, "firmware.elf")
    if aot:  # no executor to mark op boundaries: the figures only
        m4, ops = profile_ops.load_m4sim(profile_ops.M4SIM).run(elf, case0), []
    else:
        prof = profile_ops.profile(elf, case0,
                                   profile_ops.op_names(os.path.join(ROOT, "runtime", "include", "tinyforge", "ops.def")))
        m4, ops = prof["m4sim"], prof["ops"]
    got = bytes.fromhex(m4["output_hex"])
    return {"m4sim": m4, "ops": ops, "exact": got == want}


def ratio(a, b):
    return a / b if b else float("nan")


def table(lines, rows, anchors):
    """Appends the figures table of `rows` (with a geometric-mean row); returns the ratios."""
    hdr = ("| model | exact | instructions | ref | ratio | cycles (est.) | ref | ratio | MACs/cycle | ref | "
           "RAM (B) | ref | ratio | code (B) | ref | ratio |")
    lines += [hdr, "|" + "---|" * 16]
    ratios = {"instructions": [], "cycles": [], "ram": [], "code": []}
    for model in MODELS:
        ref = anchors["models"][model]
        if model not in rows:
            lines.append(f"| {model} | build/run failed | | | | | | | | | | | | | | |")
            continue
        m = rows[model]["m4sim"]
        ram = m["tinyforge_arena_used"] + m["stack_bytes"]
        ri = ratio(m["instructions"], ref["instructions"][0])
        rc = ratio(m["cycles_estimate"], ref["cycles_estimate"][0])
        rr = ratio(ram, ref["ram_bytes"])
        rk = ratio(m["code_bytes"], ref["code_bytes"])
        ratios["instructions"].append(ri)
        ratios["cycles"].append(rc)
        ratios["ram"].append(rr)
        ratios["code"].append(rk)
        lines.append(
            f"| {model} | {'yes' if rows[model]['exact'] else '**no**'} | {m['instructions']:,} | "
            f"{ref['instructions'][0]:,} | {ri:.3f} | {m['cycles_estimate']:,} | {ref['cycles_estimate'][0]:,} | "
            f"{rc:.3f} | {ref['macs'] / m['cycles_estimate']:.3f} | {ref['macs'] / ref['cycles_estimate'][0]:.3f} | "
            f"{ram:,} ({m['tinyforge_arena_used']:,} + {m['stack_bytes']:,}) | {ref['ram_bytes']:,} | {rr:.3f} | "
            f"{m['code_bytes']:,} | {ref['code_bytes']:,} | {rk:.3f} |")
    if len(ratios["instructions"]) == len(MODELS):
        g = {k: geomean(v) for k, v in ratios.items()}
        lines.append(f"| **geometric mean** | | | | **{g['instructions']:.3f}** | | | **{g['cycles']:.3f}** | | | | | "
                     f"**{g['ram']:.3f}** | | | **{g['code']:.3f}** |")
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tinyforge", default=os.path.join(ROOT, "build", "host", "tinyforge"))
    ap.add_argument("--shared", default=os.environ.get("TINYFORGE_SHARED", os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "performance.md"))
    ap.add_argument("--work", default=None, help="keep the firmware folders here")
    a = ap.parse_args()
    anchors = json.load(open(os.path.join(a.shared, "anchors", "tflm_cortex_m4.json")))
    work = a.work or tempfile.mkdtemp(prefix="tinyforge-perf-")

    rows, aot_rows, failures = {}, {}, []
    for model in MODELS:
        for aot, into in ((False, rows), (True, aot_rows)):
            label = model + (" (aot)" if aot else "")
            try:
                into[model] = measure(model, a.tinyforge, a.shared, work, aot)
                if not into[model]["exact"]:
                    failures.append(f"{label}: output differs from the golden case 0")
            except RuntimeError as e:
                failures.append(f"{label}: {e}")

    lines = ["# Performance on Cortex-M4: tinyforge vs TFLM + CMSIS-NN", ""]
    lines += [f"Generated by `bench/performance.py` (`make bench`) on {datetime.date.today().isoformat()}.",
              "Both engines measured by `../shared/tools/m4sim` (Unicorn Cortex-M4) on golden case 0;",
              "reference figures from `../shared/anchors/tflm_cortex_m4.json` "
              f"({anchors['engine']}).",
              "Ours: `tinyforge firmware MODEL --target cortex-m4` (Armv7E-M DSP kernels, in-place",
              "memory plan, only the model's kernels linked). RAM = arena used + stack high-water;",
              "code = flash - model constants (`.tinyforge.model`). Ratio = ours / reference.",
              f"MACs/cycle = the model's MACs / estimated cycles; the core's peak is {PEAK_MACS_PER_CYCLE:g}.",
              ""]
    ratios = table(lines, rows, anchors)
    if len(ratios["instructions"]) == len(MODELS):
        g = {k: geomean(v) for k, v in ratios.items()}
        lines += ["", "## Targets", "", "| figure | per model (worst) | target | geomean | target | met |",
                  "|---|---:|---:|---:|---:|---|"]
        for key, label in (("instructions", "instructions"), ("ram", "RAM (arena + stack)"), ("code", "code bytes")):
            per, geo = TARGETS[key]
            worst = max(ratios[key])
            met = worst <= per and (geo is None or g[key] <= geo)
            lines.append(f"| {label} | {worst:.3f} | <= {per} | {g[key]:.3f} | {'<= ' + str(geo) if geo else '–'} | "
                         f"{'yes' if met else '**no**'} |")
        lines.append("")
        lines.append("Beside them, for the record: model constants in flash (ours vs the .tflite) — "
                     + ", ".join(f"{m} {rows[m]['m4sim']['model_bytes']:,} vs {anchors['models'][m]['model_bytes']:,}"
                                 for m in MODELS) + " bytes.")
    lines += ["", "## The same plans as ahead-of-time C++ (`tinyforge firmware --aot`)", "",
              "`tinyforge compile --emit cpp` writes the plan as direct kernel calls with constant tensor views, a",
              "static arena and const weights: no blob, validator, dispatch or executor on the device. Same kernels,",
              "same arena; less code and stack.", ""]
    table(lines, aot_rows, anchors)
    lines += ["", "## Where the instructions go (per op, golden case 0)", "",
              "Instructions between two entries into the runtime's `eval_op` (the kernel plus the executor's",
              "per-op work), from `bench/profile_ops.py` (`--functions` splits them further by function).", ""]
    for model in MODELS:
        if model not in rows:
            continue
        ops = rows[model]["ops"]
        total = sum(o["instructions"] for o in ops)
        lines += [f"### {model}", "", "| # | op | instructions | share | cycles (est.) |", "|---:|---|---:|---:|---:|"]
        for o in ops:
            lines.append(f"| {o['index']} | {o['op']} | {o['instructions']:,} | {100.0 * o['instructions'] / total:.1f}% | "
                         f"{o['cycles_estimate']:,} |")
        lines.append("")
    if failures:
        lines += ["## Failures", ""] + [f"- {f}" for f in failures] + [""]
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    with open(a.out, "w") as f:
        f.write("\n".join(lines))
    print(f"wrote {a.out}")
    for f in failures:
        print(f"performance: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
