#!/usr/bin/python3
"""ONNX node conformance: runs ONNX's own backend node test cases through `tinyforge run`.

    /usr/bin/python3 tests/onnx_conformance.py [--tinyforge build/host/tinyforge] [-v]
                                                [--min-passed N] [--op Conv ...]

For every single-node test case (onnx.backend.test.case.node, shipped by Debian's
python3-onnx) of an op tinyforge claims, the script writes the model, its inputs as raw
little-endian files in model order, runs `tinyforge run model.onnx --input ... --output ...`
and compares the outputs with the expected ones.

Rules (so that nothing is counted as passed that we do not do):
- Inputs that tinyforge requires to be constant (weights, biases, batch-norm statistics,
  shape/pads/clip-bound tensors) are moved into initializers, as an exporter would store
  them; the values are unchanged. Every other input stays a run-time input.
- A case is "unsupported" when tinyforge refuses it with an error containing the word
  "unsupported" (e.g. uint8 tensors, rank 5, edge/reflect padding, the Dropout mask
  output); such cases are listed with the reason.
- Any other error, a crash, or an output outside the tolerance is a failure.
- Integer outputs (ArgMax's int64 indices, written by tinyforge as int32) must be equal.
- Tolerance: |got - expected| <= ATOL + RTOL * |expected| elementwise, with RTOL = 1e-3
  (ONNX's own node-test rtol) and ATOL = 1e-5 (float32 summation-order differences in
  convolutions; ONNX's 1e-7 assumes the reference's own order). Output shapes must match.
- Function-expanded variants (*_expanded) test other ops and are skipped.

Prints `onnx conformance: N passed, M failed, K unsupported (listed)`; exits 1 if any
case failed or fewer than --min-passed passed.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import warnings

import numpy as np

# Debian's onnx 1.12 test cases still use aliases numpy 1.24 removed.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for _alias, _type in (("float", float), ("int", int), ("bool", bool), ("object", object)):
        if not hasattr(np, _alias):
            setattr(np, _alias, _type)

import onnx  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from onnx.backend.test.case.node import collect_testcases  # noqa: E402

RTOL = 1e-3
ATOL = 1e-5

# ONNX op -> indices of inputs tinyforge needs as constants.
CLAIMED_OPS = {
    "Conv": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (1,),
    "Add": (),
    "Mul": (),
    "BatchNormalization": (1, 2, 3, 4),
    "Relu": (),
    "Clip": (1, 2),
    "HardSigmoid": (),
    "Sigmoid": (),
    "Tanh": (),
    "MaxPool": (),
    "AveragePool": (),
    "GlobalAveragePool": (),
    "Flatten": (),
    "Reshape": (1,),
    "Transpose": (),
    "DepthToSpace": (),
    "SpaceToDepth": (),
    "Concat": (),
    "Softmax": (),
    "Pad": (1, 2),
    "Identity": (),
    "Dropout": (1, 2),
    # also handled, beyond the list
    "Sub": (),
    "GlobalMaxPool": (),
    "Squeeze": (1,),
    "Unsqueeze": (1,),
    "LeakyRelu": (),
    "ConvTranspose": (1, 2),
    "ReduceMean": (),
    "Slice": (1, 2, 3, 4),
    "Split": (1,),
    "HardSwish": (),
    "Resize": (1, 2, 3),
    "Sum": (),
    "Mean": (),
    "Max": (),
    "Min": (),
    "Neg": (),
    "Div": (),
    "Exp": (),
    "Log": (),
    "Sqrt": (),
    "Reciprocal": (),
    "Abs": (),
    "Elu": (),
    "Selu": (),
    "Softplus": (),
    "ReduceMax": (),
    "PRelu": (1,),
    "Gather": (1,),
    "LRN": (),
    "LogSoftmax": (),
    "ArgMax": (),
    "ArgMin": (),
    "LSTM": (1, 2, 3, 4, 5, 6, 7),
}


def freeze_inputs(model, inputs, const_positions):
    """Moves the node inputs at const_positions into initializers; returns the remaining
    run-time inputs in graph order."""
    graph = model.graph
    node = graph.node[0]
    present = [name for name in node.input if name]
    by_name = dict(zip([vi.name for vi in graph.input], inputs))
    frozen = {node.input[i] for i in const_positions if i < len(node.input) and node.input[i]}
    frozen &= set(present)
    keep_inputs, keep_values = [], []
    for vi in graph.input:
        if vi.name in frozen:
            graph.initializer.append(numpy_helper.from_array(np.asarray(by_name[vi.name]), vi.name))
        else:
            keep_inputs.append(vi)
            keep_values.append(by_name[vi.name])
    del graph.input[:]
    graph.input.extend(keep_inputs)
    return keep_values


def run_case(tinyforge, case, const_positions, workdir):
    """Returns ("passed"|"failed"|"unsupported", detail)."""
    model = onnx.ModelProto()
    model.CopyFrom(case.model)
    inputs, expected = case.data_sets[0]
    values = freeze_inputs(model, list(inputs), const_positions)
    model_path = os.path.join(workdir, "model.onnx")
    with open(model_path, "wb") as f:
        f.write(model.SerializeToString())
    cmd = [tinyforge, "run", model_path]
    for i, v in enumerate(values):
        path = os.path.join(workdir, f"in{i}.bin")
        arr = np.asarray(v)
        arr.astype(arr.dtype.newbyteorder("<")).tofile(path)
        cmd += ["--input", path]
    out_paths = [os.path.join(workdir, f"out{i}.bin") for i in range(len(expected))]
    for p in out_paths:
        cmd += ["--output", p]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return "failed", "timeout"
    message = (proc.stderr or proc.stdout).strip().splitlines()
    message = message[-1] if message else f"exit code {proc.returncode}"
    if proc.returncode != 0:
        if proc.returncode == 1 and "unsupported" in message:
            return "unsupported", message.split("unsupported", 1)[1].lstrip(": ")
        return "failed", f"exit {proc.returncode}: {message}"
    for i, (want, path) in enumerate(zip(expected, out_paths)):
        want = np.asarray(want)
        if want.dtype == np.int64:  # indices (ArgMax): tinyforge writes them as int32, exact
            got = np.fromfile(path, dtype="<i4")
            if got.size != want.size or not np.array_equal(got.reshape(want.shape), want):
                return "failed", f"output {i}: indices {got.tolist()}, expected {want.tolist()}"
            continue
        if want.dtype != np.float32:
            return "failed", f"output {i} is {want.dtype}, which tinyforge should have refused"
        got = np.fromfile(path, dtype="<f4")
        if got.size != want.size:
            return "failed", f"output {i}: {got.size} values, expected {want.size}"
        got = got.reshape(want.shape)
        err = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bound = ATOL + RTOL * np.abs(want.astype(np.float64))
        same_inf = np.isinf(want) & (got == want)
        bad = ~((err <= bound) | same_inf)
        if bad.any():
            k = int(np.argmax(bad.ravel()))
            return "failed", (f"output {i}: {int(bad.sum())}/{want.size} values off, first at {k}: "
                              f"got {got.ravel()[k]!r}, expected {want.ravel()[k]!r}")
    return "passed", ""


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tinyforge", default=os.path.join(here, "..", "build", "host", "tinyforge"))
    parser.add_argument("--min-passed", type=int, default=0)
    parser.add_argument("--op", action="append", help="only these ONNX ops (repeatable)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case")
    args = parser.parse_args()
    if not os.access(args.tinyforge, os.X_OK):
        print(f"onnx conformance: tinyforge binary not found at {args.tinyforge}", file=sys.stderr)
        return 1

    ops = set(args.op) if args.op else set(CLAIMED_OPS)
    cases = []
    for case in collect_testcases(None):
        if case.name.endswith("_expanded") or len(case.model.graph.node) != 1:
            continue
        op = case.model.graph.node[0].op_type
        if op in ops and op in CLAIMED_OPS:
            cases.append((op, case))
    cases.sort(key=lambda c: (c[0], c[1].name))

    results = {"passed": [], "failed": [], "unsupported": []}
    with tempfile.TemporaryDirectory(prefix="tinyforge_onnx_conf_") as tmp:
        for n, (op, case) in enumerate(cases):
            workdir = os.path.join(tmp, f"{n}_{case.name}")  # a case name may repeat
            os.makedirs(workdir)
            status, detail = run_case(args.tinyforge, case, CLAIMED_OPS[op], workdir)
            results[status].append((op, case.name, detail))
            if args.verbose:
                print(f"{status:12s} {op:20s} {case.name} {detail}")

    for status in ("unsupported", "failed"):
        if results[status]:
            print(f"{status}:")
            for op, name, detail in results[status]:
                print(f"  {op:20s} {name}: {detail}")
    per_op = {}
    for status, items in results.items():
        for op, _, _ in items:
            per_op.setdefault(op, {"passed": 0, "failed": 0, "unsupported": 0})[status] += 1
    print("per op (passed/failed/unsupported): " + ", ".join(
        f"{op} {c['passed']}/{c['failed']}/{c['unsupported']}" for op, c in sorted(per_op.items())))
    n_pass, n_fail, n_unsup = (len(results[k]) for k in ("passed", "failed", "unsupported"))
    print(f"onnx conformance: {n_pass} passed, {n_fail} failed, {n_unsup} unsupported (listed)")
    if n_fail or n_pass < args.min_passed:
        if n_pass < args.min_passed:
            print(f"onnx conformance: expected at least {args.min_passed} passed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
