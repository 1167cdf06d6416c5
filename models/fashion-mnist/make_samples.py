#!/usr/bin/python3
"""Write example Open Inference Protocol requests built from real Fashion-MNIST test images.

    /usr/bin/python3 models/fashion-mnist/make_samples.py

Writes models/fashion-mnist/samples/test-<index>-<label>.json for a few test images, and
batch-8.json with the first eight. Needs only Debian's dataset-fashion-mnist.
"""
import gzip
import json
import os
import struct

DATA = "/usr/share/datasets/fashion-mnist"
HERE = os.path.dirname(os.path.abspath(__file__))
LABELS = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle-boot"]


def read(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        return f.read()


def main():
    images = read("t10k-images-idx3-ubyte.gz")[16:]
    labels = read("t10k-labels-idx1-ubyte.gz")[8:]
    out = os.path.join(HERE, "samples")
    os.makedirs(out, exist_ok=True)

    def pixels(i):
        return [round(b / 255.0, 4) for b in images[i * 784:(i + 1) * 784]]

    for i in (0, 1, 2):
        request = {"id": f"test-{i}", "inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32", "data": pixels(i)}]}
        with open(os.path.join(out, f"test-{i}-{LABELS[labels[i]]}.json"), "w") as f:
            json.dump(request, f, separators=(",", ":"))
    batch = {"inputs": [{"name": "input", "shape": [8, 1, 28, 28], "datatype": "FP32", "data": sum((pixels(i) for i in range(8)), [])}]}
    with open(os.path.join(out, "batch-8.json"), "w") as f:
        json.dump(batch, f, separators=(",", ":"))
    print("labels of the batch:", [LABELS[labels[i]] for i in range(8)])


if __name__ == "__main__":
    main()
