#!/usr/bin/python3
"""Trains the digits example CNN with PyTorch (Debian's python3-torch) and exports it to
ONNX as digits.onnx. Optional: the repository ships the exported model.

    /usr/bin/python3 examples/digits/train.py [--epochs 60] [--out examples/digits/digits.onnx]

The network is deliberately small and uses the layers tinyforge's ONNX importer maps:
Conv -> BatchNormalization -> Relu -> MaxPool, twice, then Flatten -> Gemm -> Softmax.
The BatchNormalization nodes are kept in the export (TrainingMode.PRESERVE on a model in
eval mode) so that tinyforge's batch-norm folding is exercised.
"""
import argparse
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from digits_data import load_split  # noqa: E402


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
            nn.MaxPool2d(2),                                   # 8 x 4 x 4
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
            nn.MaxPool2d(2),                                   # 16 x 2 x 2
        )
        self.classifier = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        return torch.softmax(self.classifier(x), dim=1)


def accuracy(model, images, labels):
    model.eval()
    with torch.no_grad():
        pred = model(torch.from_numpy(images)).argmax(dim=1).numpy()
    return float((pred == labels).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.onnx"))
    args = parser.parse_args()

    torch.manual_seed(0)
    split = load_split()
    train_x, train_y = split["train"]
    test_x, test_y = split["test"]
    model = DigitsCNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    x_all = torch.from_numpy(train_x)
    y_all = torch.from_numpy(train_y.astype(np.int64))
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(y_all))
        for start in range(0, len(perm), 32):
            idx = perm[start:start + 32]
            optimizer.zero_grad()
            probs = model(x_all[idx])
            loss = nn.functional.nll_loss(torch.log(probs + 1e-9), y_all[idx])
            loss.backward()
            optimizer.step()
        scheduler.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.4f}, train acc "
                  f"{accuracy(model, train_x, train_y):.4f}")

    print(f"float32 test accuracy (torch): {accuracy(model, test_x, test_y) * 100:.2f}% "
          f"on {len(test_y)} held-out images")
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 8, 8), args.out, opset_version=13,
                      input_names=["image"], output_names=["probs"],
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
