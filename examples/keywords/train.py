#!/usr/bin/python3
"""Trains the keywords example's DS-CNN with PyTorch (Debian's python3-torch) on the clips of
make_data.py and exports it to ONNX as keywords.onnx. Optional: the repository ships it.

    /usr/bin/python3 examples/keywords/train.py [--epochs 30] [--data examples/keywords/data]
                                                [--out examples/keywords/keywords.onnx]

A depthwise-separable CNN in the shape of the DS-CNN of "Hello Edge" (Zhang et al. 2017),
made small: a 10x4 convolution with stride 2 over the 49 x 40 features, then three
depthwise 3x3 + pointwise 1x1 blocks, global average pooling, one fully connected layer
and softmax. Every layer maps to an int8 kernel of tinyforge (Conv, depthwise Conv,
BatchNormalization folded by the importer, Relu, GlobalAveragePool, Gemm, Softmax).
One thread, deterministic on CPU (seed 0).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import keywords_data as kd  # noqa: E402

CHANNELS = 48


def separable(channels, stride):
    return [nn.Conv2d(channels, channels, 3, stride, 1, groups=channels, bias=False),
            nn.BatchNorm2d(channels), nn.ReLU(),
            nn.Conv2d(channels, channels, 1, bias=False), nn.BatchNorm2d(channels), nn.ReLU()]


class KeywordsDSCNN(nn.Module):
    def __init__(self, classes=len(kd.LABELS)):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, CHANNELS, (10, 4), (2, 2), (4, 1), bias=False),
            nn.BatchNorm2d(CHANNELS), nn.ReLU(),                   # 48 x 24 x 20
            *separable(CHANNELS, 2),                               # 48 x 12 x 10
            *separable(CHANNELS, 1),
            *separable(CHANNELS, 1),
            nn.AdaptiveAvgPool2d(1),                               # GlobalAveragePool
        )
        self.classifier = nn.Linear(CHANNELS, classes)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return torch.softmax(self.classifier(x), dim=1)


def predict(model, features):
    model.eval()
    with torch.no_grad():
        return torch.cat([model(torch.from_numpy(features[i:i + 256])).argmax(dim=1)
                          for i in range(0, len(features), 256)]).numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--out", default=os.path.join(HERE, "keywords.onnx"))
    a = ap.parse_args()

    torch.set_num_threads(1)  # the machine is shared: one core
    torch.manual_seed(0)
    train_x, train_y = kd.load_split(a.data, "train")
    test_x, test_y = kd.load_split(a.data, "test")
    model = KeywordsDSCNN()
    print(f"{sum(p.numel() for p in model.parameters())} parameters, "
          f"{len(train_y)} training clips")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=a.epochs)
    x_all = torch.from_numpy(train_x)
    y_all = torch.from_numpy(train_y.astype(np.int64))
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        perm = torch.randperm(len(y_all))
        for first in range(0, len(perm), 64):
            idx = perm[first:first + 64]
            optimizer.zero_grad()
            probs = model(x_all[idx])
            loss = nn.functional.nll_loss(torch.log(probs + 1e-9), y_all[idx])
            loss.backward()
            optimizer.step()
        scheduler.step()
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, train acc "
                  f"{(predict(model, train_x) == train_y).mean():.4f}, "
                  f"{time.time() - start:.0f} s")

    pred = predict(model, test_x)
    print(f"float32 test accuracy (torch): {(pred == test_y).mean() * 100:.2f}% on "
          f"{len(test_y)} clips of held-out voices")
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 49, 40), a.out, opset_version=13,
                      input_names=["features"], output_names=["probs"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    print(f"wrote {a.out} ({os.path.getsize(a.out)} bytes)")


if __name__ == "__main__":
    main()
