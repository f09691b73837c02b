#!/usr/bin/python3
"""Runs a .tflite model with Arm NN (Debian's python3-pyarmnn, TfLite parser, CpuRef
backend): an implementation independent of ours, to check the files tinyforge writes.

    /usr/bin/python3 tests/armnn_run.py MODEL.tflite INPUT.bin OUTPUT.bin
    /usr/bin/python3 tests/armnn_run.py --batch MANIFEST STATUS

INPUT.bin holds cases of the model's single input (its dtype, little-endian, no header,
as in ../shared/golden); OUTPUT.bin receives the single output for each case, same format.

--batch runs many models in one call (tests/kernel_table_test.cc): each MANIFEST line is
tab-separated `MODEL OUTPUT NAME=INPUT...`, one INPUT file (cases, as above) per model input
tensor NAME; a model may have several outputs: OUTPUT holds output 0 for every case, then
output 1 for every case, and so on. STATUS receives one line per model, in order: `ok`, or
`error: WHY` when Arm NN cannot parse, optimize for CpuRef or run it, or aborts on it (each
model runs in a forked child); the caller decides whether that is expected.

Exit status 77 (and a message on stderr) when Arm NN or its CpuRef backend is unusable
here, so the caller can skip (Debian: apt-get install python3-pyarmnn
libarmnn-cpuref-backend22).
"""
import io
import os
import sys
from contextlib import redirect_stdout

SKIP = 77


def load_armnn():
    """pyarmnn, numpy and a runtime with CpuRef, or None (after a message) when unusable."""
    try:
        import numpy as np
        with redirect_stdout(io.StringIO()):  # pyarmnn prints notes about missing parsers
            import pyarmnn as ann
    except ImportError as e:
        print(f"armnn_run: pyarmnn unusable: {e}", file=sys.stderr)
        return None
    runtime = ann.IRuntime(ann.CreationOptions())
    backends = [str(b) for b in runtime.GetDeviceSpec().GetSupportedBackends()]
    if "CpuRef" not in backends:
        print(f"armnn_run: Arm NN has no CpuRef backend (found {backends}); install "
              "libarmnn-cpuref-backend22 or set ARMNN_BACKEND_PATH", file=sys.stderr)
        return None
    return ann, np, runtime


class Unusable(Exception):
    """The model is outside what this script (not Arm NN) handles."""


def run_model(ann, np, runtime, model, input_paths, output_path, max_outputs=1):
    """Runs every case of the inputs through `model` on CpuRef and writes the outputs to
    `output_path`: output 0 for every case, then output 1 for every case, and so on.
    `input_paths`: tensor name -> file, or None -> file for a single input."""
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model)
    inputs = parser.GetSubgraphInputTensorNames(0)
    outputs = parser.GetSubgraphOutputTensorNames(0)
    if not 1 <= len(outputs) <= max_outputs or len(inputs) != len(input_paths):
        raise Unusable(f"expected {len(input_paths)} input(s) and 1 to {max_outputs} "
                       f"output(s), found {len(inputs)} and {len(outputs)}")
    if None in input_paths:
        input_paths = {inputs[0]: input_paths[None]}
    in_infos = [parser.GetNetworkInputBindingInfo(0, name) for name in inputs]
    out_infos = [parser.GetNetworkOutputBindingInfo(0, name) for name in outputs]
    optimized, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(),
                                ann.OptimizerOptions())
    network_id, _ = runtime.LoadNetwork(optimized)

    dtypes = {ann.DataType_Float32: "<f4", ann.DataType_QAsymmS8: "i1", ann.DataType_QAsymmU8: "u1",
              ann.DataType_QSymmS16: "<i2"}
    case_inputs = []
    for name, info in zip(inputs, in_infos):
        in_type = info[1].GetDataType()
        if in_type not in dtypes:
            raise Unusable(f"unsupported input type {in_type}")
        if name not in input_paths:
            raise Unusable(f"no input file for tensor {name}")
        case_inputs.append(np.fromfile(input_paths[name], dtypes[in_type])
                           .reshape(-1, info[1].GetNumElements()))
    results = [[] for _ in outputs]
    for case in zip(*case_inputs):
        in_tensors = ann.make_input_tensors(in_infos, list(case))
        out_tensors = ann.make_output_tensors(out_infos)
        runtime.EnqueueWorkload(network_id, in_tensors, out_tensors)
        for k, values in enumerate(ann.workload_tensors_to_ndarray(out_tensors)):
            results[k].append(values.ravel())
    runtime.UnloadNetwork(network_id)
    with open(output_path, "wb") as f:
        for per_case in results:
            f.write(np.concatenate(per_case).tobytes())


def run_isolated(run):
    """Calls `run` in a forked child, so an Arm NN assertion that aborts the process fails
    one model, not the batch. Returns "ok" or "error: WHY"."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            run()
            result = "ok"
        except Exception as e:  # Arm NN raises RuntimeError and friends: report, go on
            result = "error: " + (" ".join(str(e).split()) or type(e).__name__)
        os.write(write_end, result.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        result = f.read().decode()
    _, wait_status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(wait_status):
        return f"error: Arm NN aborted (signal {os.WTERMSIG(wait_status)}; see its stderr)"
    return result or "error: no result"


def run_batch(ann, np, runtime, manifest, status_path):
    status = []
    with open(manifest) as f:
        for line in f.read().splitlines():
            model, output, *named = line.split("\t")
            inputs = dict(item.split("=", 1) for item in named)
            status.append(run_isolated(
                lambda: run_model(ann, np, runtime, model, inputs, output, max_outputs=64)))
    with open(status_path, "w") as f:
        f.write("\n".join(status) + "\n")


def main():
    batch = len(sys.argv) == 4 and sys.argv[1] == "--batch"
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    loaded = load_armnn()
    if loaded is None:
        return SKIP
    if batch:
        run_batch(*loaded, sys.argv[2], sys.argv[3])
        return 0
    model, input_path, output_path = sys.argv[1:]
    try:
        run_model(*loaded, model, {None: input_path}, output_path)
    except Unusable as e:
        print(f"armnn_run: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
