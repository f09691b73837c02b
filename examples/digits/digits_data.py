"""The digits example's data: scikit-learn's bundled 8x8 handwritten digits (1797 images,
shipped inside Debian's python3-sklearn, no download), split once with a fixed seed.

Used by train.py (PyTorch) and prepare_data.py (raw tensors for tinyforge), so both see
exactly the same train / calibration / test images.
"""
import numpy as np
from sklearn.datasets import load_digits

SEED = 20240607
NUM_TEST = 360          # held out: accuracy is reported on these only
NUM_CALIBRATION = 200   # int8 calibration; never used for training or testing


def load_split():
    """Returns dict name -> (images float32 [N,1,8,8] in [0,1], labels uint8 [N])."""
    digits = load_digits()
    images = (digits.images.astype(np.float32) / 16.0)[:, None, :, :]  # NCHW, C = 1
    labels = digits.target.astype(np.uint8)
    order = np.random.RandomState(SEED).permutation(len(labels))
    test = order[:NUM_TEST]
    calibration = order[NUM_TEST:NUM_TEST + NUM_CALIBRATION]
    train = order[NUM_TEST + NUM_CALIBRATION:]
    return {
        "train": (images[train], labels[train]),
        "calibration": (images[calibration], labels[calibration]),
        "test": (images[test], labels[test]),
    }
