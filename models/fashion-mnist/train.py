#!/usr/bin/python3
"""Train the demo Fashion-MNIST CNN, export it to ONNX and rewrite config.json's digests.

Run with Debian's interpreter and packages (dataset-fashion-mnist, python3-torch, python3-onnx):

    /usr/bin/python3 models/fashion-mnist/train.py [--epochs 10] [--seed 7]

Writes models/fashion-mnist/1/model.onnx, updates the "sha256" and "training" fields of
models/fashion-mnist/config.json, and prints the test accuracy on the 10,000 test images.
"""
import argparse
import gzip
import hashlib
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    magic, count = struct.unpack(">II", raw[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 1, rows, cols)
    if magic == 0x801:
        return np.frombuffer(raw, dtype=np.uint8, offset=8)
    raise ValueError(f"{name}: unknown IDX magic {magic:#x}")


class Net(nn.Module):
    """Two conv blocks and two dense layers; softmax inside so the ONNX output is probabilities."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(128, 10)

    def logits(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = self.drop(F.relu(self.fc1(torch.flatten(x, 1))))
        return self.fc2(x)

    def forward(self, x):
        return F.softmax(self.logits(x), dim=1)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--version", default="1")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(os.cpu_count() or 1)

    x_train = torch.from_numpy(read_idx("train-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    y_train = torch.from_numpy(read_idx("train-labels-idx1-ubyte.gz").astype(np.int64))
    x_test = torch.from_numpy(read_idx("t10k-images-idx3-ubyte.gz").astype(np.float32) / 255.0)
    y_test = torch.from_numpy(read_idx("t10k-labels-idx1-ubyte.gz").astype(np.int64))

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    batch = 128
    started = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x_train))
        for i in range(0, len(x_train), batch):
            idx = perm[i:i + batch]
            xb = x_train[idx]
            # Light augmentation: random horizontal flips (garments are left-right symmetric).
            flip = torch.rand(len(xb)) < 0.5
            xb[flip] = torch.flip(xb[flip], dims=[3])
            loss = F.cross_entropy(model.logits(xb), y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {loss.item():.4f}, test accuracy {acc:.4f}, {time.time() - started:.0f} s", flush=True)

    model.eval()
    acc = evaluate(model, x_test, y_test)
    out_dir = os.path.join(HERE, args.version)
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(
        model, torch.zeros(1, 1, 28, 28), onnx_path,
        input_names=["input"], output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}},
        opset_version=13)

    import onnx
    onnx.checker.check_model(onnx.load(onnx_path))

    config_path = os.path.join(HERE, "config.json")
    with open(config_path) as f:
        config = json.load(f)
    files = {name: sha256(os.path.join(out_dir, name)) for name in sorted(os.listdir(out_dir))
             if name.startswith("model.onnx")}
    config.setdefault("sha256", {})[args.version] = files
    config.setdefault("training", {})[args.version] = {
        "script": "models/fashion-mnist/train.py",
        "epochs": args.epochs,
        "seed": args.seed,
        "test_accuracy": round(acc, 4),
        "torch": torch.__version__,
    }
    with open(config_path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    print(f"test accuracy {acc:.4f} on {len(x_test)} images; wrote {onnx_path} and {config_path}")


@torch.no_grad()
def evaluate(model, x, y):
    model.eval()
    correct = 0
    for i in range(0, len(x), 1000):
        correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    return correct / len(x)


if __name__ == "__main__":
    main()
