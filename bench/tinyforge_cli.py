"""What the bench scripts share: calling the tinyforge CLI, and examples/digits' data."""
import os
import subprocess

import numpy as np


class Tinyforge:
    """The CLI at `path`; scratch files go to `work`."""

    def __init__(self, path, work):
        self.path, self.work = path, work

    def __call__(self, *args):
        """stdout of `tinyforge ARGS`; raises with its stderr when it fails."""
        out = subprocess.run([self.path, *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"tinyforge {' '.join(args)}: {out.stderr.strip()}")
        return out.stdout

    def run(self, model, inputs, dtype="<f4"):
        """The output of `tinyforge run MODEL --input ...` as a numpy array of `dtype`."""
        out = os.path.join(self.work, "out.bin")
        self("run", model, *sum([["--input", i] for i in inputs], []), "--output", out)
        return np.fromfile(out, dtype)


def digits_data(root):
    """(model, calibration, test, labels) of examples/digits, preparing the data if missing."""
    digits = os.path.join(root, "examples", "digits")
    data = os.path.join(digits, "data")
    if not os.path.exists(os.path.join(data, "test.bin")):
        subprocess.run(["/usr/bin/python3", os.path.join(digits, "prepare_data.py")], check=True)
    labels = np.fromfile(os.path.join(data, "test_labels.bin"), np.uint8)
    return (os.path.join(digits, "digits.onnx"), os.path.join(data, "calibration.bin"),
            os.path.join(data, "test.bin"), labels)
