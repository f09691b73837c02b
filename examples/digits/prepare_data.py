#!/usr/bin/python3
"""Writes the digits example's data as raw tensors for `tinyforge run` / `quantize`.

    /usr/bin/python3 examples/digits/prepare_data.py [--out examples/digits/data]

Files (the format of ../shared/golden: little-endian, no header, cases concatenated):
  calibration.bin         200 x float32[1,1,8,8]   int8 calibration images
  calibration_labels.bin  200 x uint8
  test.bin                360 x float32[1,1,8,8]   held-out test images
  test_labels.bin         360 x uint8
Images are the model input's NCHW layout (C = 1, so the bytes are the same in NHWC),
pixel values scaled to [0, 1] exactly as train.py does. Needs only numpy and scikit-learn
(Debian python3-sklearn, installed by scripts/bootstrap): the data ships with the package.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from digits_data import load_split  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(here, "data"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    split = load_split()
    for name in ("calibration", "test"):
        images, labels = split[name]
        images.astype("<f4").tofile(os.path.join(args.out, f"{name}.bin"))
        labels.astype(np.uint8).tofile(os.path.join(args.out, f"{name}_labels.bin"))
        print(f"{name}: {len(labels)} images -> {args.out}/{name}.bin, {name}_labels.bin")


if __name__ == "__main__":
    main()
