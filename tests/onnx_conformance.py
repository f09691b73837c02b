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
- Gather cases run twice: with constant indices, and with the int64 indices a run-time
  input (case name suffix "_runtime_indices"), fed as int64 files with `--int64-inputs`.
  Run-time negative indices are a documented deviation (KNOWN_DEVIATIONS: a slice of
  zeros, where ONNX counts from the end): that case is listed as unsupported.
- ONNX's node tests have no LSTM or GRU with direction "reverse" or "bidirectional": the
  script adds such cases (named test_*_reverse / _bidirectional), their expected outputs
  computed per direction with ONNX's own numpy reference of the node tests (LSTM_Helper,
  GRU_Helper): a reverse direction is that reference on X reversed in time, its Y reversed
  back; a bidirectional node stacks a forward and a reverse one (onnx/defs/rnn/defs.cc).

Prints `onnx conformance: N passed, M failed, K unsupported (listed)`; exits 1 if any
case failed or fewer than --min-passed passed.
"""
import argparse
import collections
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
from onnx.backend.test.case.node import gru as gru_node  # noqa: E402
from onnx.backend.test.case.node import lstm as lstm_node  # noqa: E402

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
    "GRU": (1, 2, 3, 4),
}

# ONNX op -> input positions that a second run of each case keeps as run-time inputs (the
# indices of Gather: int64 files read through `tinyforge run --int64-inputs`).
RUNTIME_VARIANTS = {
    "Gather": (),
}

# Cases whose difference from ONNX is documented behaviour (docs/onnx-import.md): listed as
# unsupported with the reason when they fail; any other failure is still a failure.
KNOWN_DEVIATIONS = {
    "test_gather_negative_indices_runtime_indices":
        "negative indices at run time give zeros (tinyforge's Gather never wraps an index)",
}


Case = collections.namedtuple("Case", "name model data_sets")


def rnn_reference(op, direction, x, w, r, b, lbr):
    """Y [T,D,B,H] and Y_h [D,B,H] of a layout-0 LSTM/GRU node (ONNX's helpers run one
    forward direction; a bidirectional node's are forward, then reverse)."""
    ys, last = [], []
    for d in range(w.shape[0]):
        reverse = d == 1 or direction == "reverse"
        xs = x[::-1] if reverse else x
        params = dict(X=xs, W=w[d:d + 1], R=r[d:d + 1], B=b[d:d + 1])
        if op == "GRU":
            params["linear_before_reset"] = lbr
            y, _ = gru_node.GRU_Helper(**params).step()
        else:
            y, _ = lstm_node.LSTM_Helper(**params).step()
        y = y[:, 0]  # [T,B,H] in run order
        last.append(y[-1])
        ys.append(y[::-1] if reverse else y)
    return np.stack(ys, axis=1).astype(np.float32), np.stack(last).astype(np.float32)


def direction_cases():
    """LSTM and GRU nodes with direction reverse and bidirectional (layout 0 and 1, GRU
    with both linear_before_reset values), random weights, expected outputs from
    rnn_reference."""
    rng = np.random.default_rng(7)
    out = []
    for op, gates in (("LSTM", 4), ("GRU", 3)):
        for direction in ("reverse", "bidirectional"):
            for layout in (0, 1):
                for lbr in ((0, 1) if op == "GRU" else (0,)):
                    steps, batch, features, hidden = 4, 2, 3, 5
                    dirs = 2 if direction == "bidirectional" else 1
                    x = rng.uniform(-2, 2, (steps, batch, features)).astype(np.float32)
                    w = rng.uniform(-1, 1, (dirs, gates * hidden, features)).astype(np.float32)
                    r = rng.uniform(-1, 1, (dirs, gates * hidden, hidden)).astype(np.float32)
                    b = rng.uniform(-1, 1, (dirs, 2 * gates * hidden)).astype(np.float32)
                    y, y_h = rnn_reference(op, direction, x, w, r, b, lbr)
                    attrs = dict(hidden_size=hidden, direction=direction)
                    if layout:
                        x = np.swapaxes(x, 0, 1).copy()
                        y = np.transpose(y, (2, 0, 1, 3)).copy()
                        y_h = np.swapaxes(y_h, 0, 1).copy()
                        attrs["layout"] = 1
                    if op == "GRU":
                        attrs["linear_before_reset"] = lbr
                    node = onnx.helper.make_node(op, ["X", "W", "R", "B"], ["Y", "Y_h"], **attrs)
                    values = {"X": x, "W": w, "R": r, "B": b}
                    graph = onnx.helper.make_graph(
                        [node], "g",
                        [onnx.helper.make_tensor_value_info(k, onnx.TensorProto.FLOAT, v.shape)
                         for k, v in values.items()],
                        [onnx.helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, y.shape),
                         onnx.helper.make_tensor_value_info("Y_h", onnx.TensorProto.FLOAT,
                                                            y_h.shape)])
                    model = onnx.helper.make_model(
                        graph, opset_imports=[onnx.helper.make_opsetid("", 14)])
                    name = f"test_{op.lower()}_{direction}_layout{layout}"
                    if op == "GRU":
                        name += f"_lbr{lbr}"
                    out.append((op, Case(name, model, [(list(values.values()), [y, y_h])])))
    return out


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
        if arr.dtype == np.int64 and "--int64-inputs" not in cmd:
            cmd.append("--int64-inputs")
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
    cases += [(op, case) for op, case in direction_cases() if op in ops]
    cases.sort(key=lambda c: (c[0], c[1].name))
    runs = [(op, case, CLAIMED_OPS[op]) for op, case in cases]
    runs += [(op, Case(case.name + "_runtime_indices", case.model, case.data_sets),
              RUNTIME_VARIANTS[op]) for op, case in cases if op in RUNTIME_VARIANTS]

    results = {"passed": [], "failed": [], "unsupported": []}
    with tempfile.TemporaryDirectory(prefix="tinyforge_onnx_conf_") as tmp:
        for n, (op, case, const_positions) in enumerate(runs):
            workdir = os.path.join(tmp, f"{n}_{case.name}")  # a case name may repeat
            os.makedirs(workdir)
            status, detail = run_case(args.tinyforge, case, const_positions, workdir)
            if status == "failed" and case.name in KNOWN_DEVIATIONS:
                status, detail = "unsupported", f"{KNOWN_DEVIATIONS[case.name]} ({detail})"
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
