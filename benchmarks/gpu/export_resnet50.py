"""Exports torchvision's ResNet-50 (random weights, seed 0) to ONNX for the GPU benchmark, in fp32
and fp16, with its input normalisation and a softmax inside the graph (so it takes images in [0, 1]
and answers probabilities, as a served classifier does), and writes the model repository entries
(config.json with every file's sha256, dynamic batching up to 32).

usage: python3 export_resnet50.py REPOSITORY [--max-batch 32] [--queue-delay-us 0]
Runs on the GPU host (PyTorch and torchvision there); the fp16 export needs CUDA.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import torch
import torchvision


class Served(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = torchvision.models.resnet50()
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, x):
        return torch.softmax(self.net((x - self.mean) / self.std), dim=1)


def export(model, example, path):
    kwargs = dict(input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=18)
    try:
        torch.onnx.export(model, (example,), path, **kwargs)
    except Exception as error:  # older exporters or a missing onnxscript: the TorchScript exporter
        print(f"default exporter failed ({error!r}); retrying with dynamo=False", file=sys.stderr)
        for f in os.listdir(os.path.dirname(path)):
            os.remove(os.path.join(os.path.dirname(path), f))
        torch.onnx.export(model, (example,), path, dynamo=False, **kwargs)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("repository")
    parser.add_argument("--max-batch", type=int, default=32)
    parser.add_argument("--queue-delay-us", type=int, default=0)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, device {device}", file=sys.stderr)
    for name, half in (("resnet50", False), ("resnet50-fp16", True)):
        if half and device != "cuda":
            print("no CUDA: fp16 export skipped", file=sys.stderr)
            continue
        started = time.time()
        version = os.path.join(args.repository, name, "1")
        os.makedirs(version, exist_ok=True)
        model = Served().eval().to(device)
        example = torch.rand(1, 3, 224, 224, device=device)
        if half:
            model, example = model.half(), example.half()
        with torch.no_grad():
            export(model, example, os.path.join(version, "model.onnx"))
        files = {f: sha256(os.path.join(version, f)) for f in sorted(os.listdir(version))}
        config = {
            "name": name,
            "platform": "onnxruntime_onnx",
            "max_batch_size": args.max_batch,
            "input": [{"name": "input", "data_type": "TYPE_FP16" if half else "TYPE_FP32", "dims": [3, 224, 224], "range": [0.0, 1.0]}],
            "output": [{"name": "output", "data_type": "TYPE_FP32", "dims": [1000]}],
            "dynamic_batching": {"max_queue_delay_microseconds": args.queue_delay_us, "preferred_batch_size": [args.max_batch]},
            "sha256": {"1": files},
            "training": {"1": {"script": "benchmarks/gpu/export_resnet50.py", "weights": "random (torch.manual_seed(0))",
                               "torch": torch.__version__, "torchvision": torchvision.__version__}},
        }
        with open(os.path.join(args.repository, name, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
        print(f"{name}: {', '.join(f'{f} {os.path.getsize(os.path.join(version, f)) / 1e6:.1f} MB' for f in files)} in {time.time() - started:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
