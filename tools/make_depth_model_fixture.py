#!/usr/bin/env python3
"""Tiny ONNX networks for tests/priors/depth_model_test.cpp (priors/depth_model.h).

Regenerate tests/data/depth_model/ from the repository root with:
    python3 -m pip install onnx   # a developer tool only: Glimpse never needs onnx at run time
    python3 tools/make_depth_model_fixture.py tests/data/depth_model

Writes (each a few hundred bytes; the same bytes on every run):
  tiny_depth.onnx   x [1,3,H,W] -> relu(conv1x1(x; W, B)) + C -> [1,1,H,W]; C < 0, so pixels where
                    the convolution is below -C come out negative (confidence 0 in the prior)
  sqrt_depth.onnx   x [1,3,H,W] -> sqrt(conv1x1(x; W, B)) -> [1,1,H,W]; NaN where the
                    convolution is negative
  wrong_shape.onnx  x [1,3,H,W] -> conv1x1 to two channels -> [1,2,H,W] (refused by the loader)
H and W are symbolic ("height", "width"), so the networks run at any input size. The constants
below are repeated in depth_model_test.cpp, which recomputes the networks by hand; they are
powers of two so that the float arithmetic of both sides is exact up to the normalisation.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

WEIGHTS = [0.5, -0.25, 0.125]  # per input channel R, G, B (after the convention's normalisation)
BIAS = 0.0625
CONSTANT = -0.125  # added after the ReLU of tiny_depth.onnx
OPSET = 11
IR_VERSION = 6  # what opset 11 came with; OpenCV 4.x reads it


def image_input():
    return helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "height", "width"])


def output(channels):
    return helper.make_tensor_value_info("depth", TensorProto.FLOAT, [1, channels, "height", "width"])


def conv_initializers(weights, biases):
    w = np.asarray(weights, dtype=np.float32).reshape(len(biases), 3, 1, 1)
    b = np.asarray(biases, dtype=np.float32)
    return [numpy_helper.from_array(w, "conv.weight"), numpy_helper.from_array(b, "conv.bias")]


def save(graph, path):
    model = helper.make_model(
        graph, producer_name="glimpse make_depth_model_fixture.py",
        opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model)
    onnx.save(model, path)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def tiny_depth(path):
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv"], kernel_shape=[1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("Add", ["relu", "constant"], ["depth"]),
    ]
    inits = conv_initializers(WEIGHTS, [BIAS])
    inits.append(numpy_helper.from_array(np.asarray([CONSTANT], dtype=np.float32), "constant"))
    save(helper.make_graph(nodes, "tiny_depth", [image_input()], [output(1)], inits), path)


def sqrt_depth(path):
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["conv"], kernel_shape=[1, 1]),
        helper.make_node("Sqrt", ["conv"], ["depth"]),
    ]
    inits = conv_initializers(WEIGHTS, [BIAS])
    save(helper.make_graph(nodes, "sqrt_depth", [image_input()], [output(1)], inits), path)


def wrong_shape(path):
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["depth"], kernel_shape=[1, 1]),
    ]
    inits = conv_initializers(WEIGHTS + [-w for w in WEIGHTS], [BIAS, -BIAS])
    save(helper.make_graph(nodes, "wrong_shape", [image_input()], [output(2)], inits), path)


def main():
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} OUTPUT_DIR   (tests/data/depth_model)")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tiny_depth(os.path.join(out, "tiny_depth.onnx"))
    sqrt_depth(os.path.join(out, "sqrt_depth.onnx"))
    wrong_shape(os.path.join(out, "wrong_shape.onnx"))


if __name__ == "__main__":
    main()
