#!/usr/bin/env python3
"""Tiny ONNX networks (NOT LPIPS) for the Lpips loading tests in tests/eval/metrics_test.cpp.

Developer tool only. Regenerate with
    python3 -m pip install numpy onnx    # versions used: numpy 2.4.6, onnx 1.23.2
    python3 tests/data/eval/make_lpips_test_net.py
It writes next to itself (opset 11, ONNX IR version 6, so that OpenCV 4.6's importer reads them):
  mse_distance.onnx      the Lpips contract (inputs "in0", "in1" [1, 3, H, W], H and W dynamic;
                         output "distance" [1, 1, 1, 1]) computing mean((in0 - in1)^2) over
                         channels and pixels: runs the real cv::dnn path with a known answer.
  sum_not_distance.onnx  same contract but mean((in0 + in1)^2): not 0 for identical inputs, so
                         Lpips::load must reject it as "not a distance network".
  wrong_inputs.onnx      mean((x - y)^2) with inputs named "x", "y": must be rejected.
  shared_div.onnx        mean((in0 / s - in1 / s)^2), s = LPIPS's per-channel scale, ONE constant
                         shared by both Div nodes: the pattern OpenCV 4.6 silently mis-evaluates
                         (as in a plain torch export of lpips.LPIPS), with
  shared_div.onnx.reference.json  its exact distance on Lpips::reference_path's probe pair
                         (numpy, float64 on the float32 inputs): Lpips::load must either reject
                         the network or reproduce that value.
Each is Sub/Add (or the two Divs), Mul, a 1x1 Conv (weights 1/3: channel mean) and
GlobalAveragePool.
"""
import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))
SCALE = [0.458, 0.448, 0.450]  # lpips ScalingLayer.scale
PROBE_W, PROBE_H = 64, 48


def make_net(name, combine, input_names, shared_div=False):
    inputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, "H", "W"])
              for n in input_names]
    out = helper.make_tensor_value_info("distance", TensorProto.FLOAT, [1, 1, 1, 1])
    weight = helper.make_tensor("channel_mean_w", TensorProto.FLOAT, [1, 3, 1, 1], [1 / 3] * 3)
    bias = helper.make_tensor("channel_mean_b", TensorProto.FLOAT, [1], [0.0])
    inits = [weight, bias]
    nodes = []
    if shared_div:
        inits.append(helper.make_tensor("scale", TensorProto.FLOAT, [1, 3, 1, 1], SCALE))
        nodes += [helper.make_node("Div", [input_names[0], "scale"], ["s0"]),
                  helper.make_node("Div", [input_names[1], "scale"], ["s1"])]
        input_names = ("s0", "s1")
    nodes += [
        helper.make_node(combine, list(input_names), ["diff"]),
        helper.make_node("Mul", ["diff", "diff"], ["sq"]),
        helper.make_node("Conv", ["sq", "channel_mean_w", "channel_mean_b"], ["sq_mean"],
                         kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["sq_mean"], ["distance"]),
    ]
    graph = helper.make_graph(nodes, name, inputs, [out], inits)
    model = helper.make_model(graph, producer_name="glimpse tests/data/eval",
                              opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 6
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))
    print("wrote", name + ".onnx")


def probe_pair():
    """The probe pair of glimpse::Lpips::reference_path (float32 values, as the network sees them)."""
    a = np.zeros((3, PROBE_H, PROBE_W), np.float32)
    b = np.zeros_like(a)
    for c in range(3):
        for y in range(PROBE_H):
            for x in range(PROBE_W):
                a[c, y, x] = 0.5 + 0.45 * math.sin(0.31 * x + 0.17 * y + 1.3 * c)
                b[c, y, x] = 0.5 + 0.45 * math.sin(0.29 * x + 0.19 * y + 1.3 * c + 0.5)
    return a.astype(np.float64), b.astype(np.float64)


def main():
    make_net("mse_distance", "Sub", ("in0", "in1"))
    make_net("sum_not_distance", "Add", ("in0", "in1"))
    make_net("wrong_inputs", "Sub", ("x", "y"))
    make_net("shared_div", "Sub", ("in0", "in1"), shared_div=True)
    a, b = probe_pair()
    s = np.asarray(SCALE, np.float32).astype(np.float64).reshape(3, 1, 1)
    distance = float(np.mean(((a - b) / s) ** 2))
    with open(os.path.join(HERE, "shared_div.onnx.reference.json"), "w") as f:
        json.dump({"probe": "glimpse-lpips-probe-v1", "width": PROBE_W, "height": PROBE_H,
                   "distance": distance}, f, indent=1)
        f.write("\n")
    print("wrote shared_div.onnx.reference.json, distance", distance)


if __name__ == "__main__":
    main()
