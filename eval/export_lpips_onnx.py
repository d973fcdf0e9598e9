#!/usr/bin/env python3
"""Exports the whole LPIPS-VGG network (v0.1) to ONNX for glimpse::Lpips (eval/metrics.h).

Developer tool, run once on a machine that has PyTorch and can obtain the weights; Glimpse itself
only reads the resulting files through OpenCV DNN. Needs
    python3 -m pip install torch torchvision lpips onnx
`lpips.LPIPS(net="vgg")` takes the VGG-16 ImageNet backbone from torchvision (downloaded by
torchvision on first use) and the linear heads from the lpips package (weights/v0.1/vgg.pth, the
same file as lpips_v0.1_lin/vgg.pth). The heads alone cannot compute LPIPS.

Usage:
    python3 eval/export_lpips_onnx.py lpips_vgg.onnx
writes lpips_vgg.onnx and lpips_vgg.onnx.reference.json. Contract (checked by Lpips::load):
inputs "in0", "in1" float32 [1, 3, H, W] in LPIPS's [-1, 1] convention (Glimpse passes [0, 1]
images unchanged by default, as the papers do), output "distance" [1, 1, 1, 1]; opset 11.

Why a wrapper instead of exporting lpips.LPIPS as is: OpenCV 4.6's ONNX importer (Debian 12's)
fails on or mis-evaluates three ops of the plain export, found with hand-built graphs checked
against onnxruntime:
  * ReduceSum over the channel axis (normalize_tensor): import error;
  * ReduceMean over H, W keepdims (spatial_average): NaN;
  * Div by a constant initializer shared by two nodes (the ScalingLayer applied to in0 and in1):
    silently wrong values (the constant is inverted in place once per node).
The wrapper computes the same function with Sub/Mul (by 1/scale), a 1x1 Conv with unit weights
for the channel sum, and GlobalAveragePool (adaptive_avg_pool2d(., 1)); that op pattern matches
onnxruntime to ~1e-8 in OpenCV 4.6 on a VGG-like graph. The wrapper is checked against
lpips.LPIPS in PyTorch before export, and the ONNX file against PyTorch with onnxruntime and
cv2 (OpenCV's Python package, possibly another version than the C++ library) when installed.
The reference JSON lets Lpips::load check the C++ OpenCV against PyTorch on every load.

Status: not run in the development environment (no PyTorch or VGG weights there).
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F
import lpips

PROBE_NAME = "glimpse-lpips-probe-v1"
PROBE_W, PROBE_H = 64, 48


class LpipsForOpenCv(torch.nn.Module):
    """lpips.LPIPS(net="vgg", version="0.1") forward(in0, in1, normalize=False), OpenCV-safe ops."""

    def __init__(self):
        super().__init__()
        ref = lpips.LPIPS(net="vgg", version="0.1", lpips=True, spatial=False).eval()
        self.reference = ref
        self.net = ref.net
        self.lins = ref.lins
        shift = ref.scaling_layer.shift.detach().clone()
        inv_scale = 1.0 / ref.scaling_layer.scale.detach().clone()
        self.register_buffer("shift", shift)
        self.register_buffer("inv_scale", inv_scale)
        for k, c in enumerate(ref.chns):
            self.register_buffer(f"ones{k}", torch.ones(1, c, 1, 1))

    def normalize(self, x, k):  # lpips.normalize_tensor with a Conv for the channel sum
        norm = torch.sqrt(F.conv2d(x * x, getattr(self, f"ones{k}")))
        return x / (norm + 1e-10)

    def forward(self, in0, in1):
        f0 = self.net.forward((in0 - self.shift) * self.inv_scale)
        f1 = self.net.forward((in1 - self.shift) * self.inv_scale)
        total = None
        for k in range(len(f0)):
            d = self.normalize(f0[k], k) - self.normalize(f1[k], k)
            v = F.adaptive_avg_pool2d(self.lins[k](d * d), 1)
            total = v if total is None else total + v
        return total


def probe_pair():
    """The probe pair of Lpips::reference_path, fed to the network as is."""
    a = np.zeros((1, 3, PROBE_H, PROBE_W), np.float32)
    b = np.zeros_like(a)
    for c in range(3):
        for y in range(PROBE_H):
            for x in range(PROBE_W):
                a[0, c, y, x] = 0.5 + 0.45 * math.sin(0.31 * x + 0.17 * y + 1.3 * c)
                b[0, c, y, x] = 0.5 + 0.45 * math.sin(0.29 * x + 0.19 * y + 1.3 * c + 0.5)
    return a, b


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "lpips_vgg.onnx"
    model = LpipsForOpenCv().eval()
    a, b = probe_pair()
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    with torch.no_grad():
        expected = float(model(ta, tb).reshape(-1)[0])
        original = float(model.reference(ta, tb, normalize=False).reshape(-1)[0])
        assert abs(expected - original) < 1e-5, (expected, original)
        kwargs = dict(input_names=["in0", "in1"], output_names=["distance"],
                      dynamic_axes={"in0": {2: "H", 3: "W"}, "in1": {2: "H", 3: "W"}},
                      opset_version=11, do_constant_folding=True)
        try:
            torch.onnx.export(model, (ta, tb), out, dynamo=False, **kwargs)
        except TypeError:  # torch < 2.5 has no dynamo argument
            torch.onnx.export(model, (ta, tb), out, **kwargs)
    with open(out + ".reference.json", "w") as f:
        json.dump({"probe": PROBE_NAME, "width": PROBE_W, "height": PROBE_H,
                   "distance": expected}, f, indent=1)
        f.write("\n")
    print(f"wrote {out} and {out}.reference.json; PyTorch LPIPS of the probe pair: {expected:.6f}")
    try:
        import onnxruntime
        got = onnxruntime.InferenceSession(out).run(None, {"in0": a, "in1": b})[0].reshape(-1)[0]
        print(f"onnxruntime: {got:.6f}")
        assert abs(got - expected) < 1e-4
    except ImportError:
        print("onnxruntime not installed: skipped")
    try:
        import cv2
        net = cv2.dnn.readNetFromONNX(out)
        net.setInput(a, "in0")
        net.setInput(b, "in1")
        got = float(net.forward().reshape(-1)[0])
        print(f"cv2 {cv2.__version__}: {got:.6f}")
        assert abs(got - expected) < 1e-3
    except ImportError:
        print("cv2 not installed: skipped (Lpips::load checks the reference value anyway)")


if __name__ == "__main__":
    main()
