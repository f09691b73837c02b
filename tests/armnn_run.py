#!/usr/bin/python3
"""Runs a .tflite model with Arm NN (Debian's python3-pyarmnn, TfLite parser, CpuRef
backend): an implementation independent of ours, to check the files tinyforge writes.

    /usr/bin/python3 tests/armnn_run.py MODEL.tflite INPUT.bin OUTPUT.bin

INPUT.bin holds cases of the model's single input (its dtype, little-endian, no header,
as in ../shared/golden); OUTPUT.bin receives the single output for each case, same format.
Exit status 77 (and a message on stderr) when Arm NN or its CpuRef backend is unusable
here, so the caller can skip (Debian: apt-get install python3-pyarmnn
libarmnn-cpuref-backend22).
"""
import io
import sys
from contextlib import redirect_stdout

SKIP = 77


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model, input_path, output_path = sys.argv[1:]
    try:
        import numpy as np
        with redirect_stdout(io.StringIO()):  # pyarmnn prints notes about missing parsers
            import pyarmnn as ann
    except ImportError as e:
        print(f"armnn_run: pyarmnn unusable: {e}", file=sys.stderr)
        return SKIP
    runtime = ann.IRuntime(ann.CreationOptions())
    backends = [str(b) for b in runtime.GetDeviceSpec().GetSupportedBackends()]
    if "CpuRef" not in backends:
        print(f"armnn_run: Arm NN has no CpuRef backend (found {backends}); install "
              "libarmnn-cpuref-backend22 or set ARMNN_BACKEND_PATH", file=sys.stderr)
        return SKIP

    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model)
    inputs = parser.GetSubgraphInputTensorNames(0)
    outputs = parser.GetSubgraphOutputTensorNames(0)
    if len(inputs) != 1 or len(outputs) != 1:
        print("armnn_run: expected one input and one output", file=sys.stderr)
        return 2
    in_info = parser.GetNetworkInputBindingInfo(0, inputs[0])
    out_info = parser.GetNetworkOutputBindingInfo(0, outputs[0])
    optimized, _ = ann.Optimize(network, [ann.BackendId("CpuRef")], runtime.GetDeviceSpec(),
                                ann.OptimizerOptions())
    network_id, _ = runtime.LoadNetwork(optimized)

    dtypes = {ann.DataType_Float32: "<f4", ann.DataType_QAsymmS8: "i1", ann.DataType_QAsymmU8: "u1"}
    in_type = in_info[1].GetDataType()
    if in_type not in dtypes:
        print(f"armnn_run: unsupported input type {in_type}", file=sys.stderr)
        return 2
    elements = in_info[1].GetNumElements()
    cases = np.fromfile(input_path, dtypes[in_type]).reshape(-1, elements)
    results = []
    for case in cases:
        in_tensors = ann.make_input_tensors([in_info], [case])
        out_tensors = ann.make_output_tensors([out_info])
        runtime.EnqueueWorkload(network_id, in_tensors, out_tensors)
        results.append(ann.workload_tensors_to_ndarray(out_tensors)[0].ravel())
    np.concatenate(results).tofile(output_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
