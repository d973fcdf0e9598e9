#!/usr/bin/env python3
"""Reference values for tests/eval: SSIM/PSNR on two small image pairs and the LLFF splits.

Developer tool only (never used at run time). Regenerate with
    python3 -m pip install numpy scipy scikit-image   # versions used: see "versions" in the JSON
    python3 tests/data/eval/make_ssim_fixture.py
It writes, next to itself: pair{0,1}_{a,b}.png (40x30 RGB, 8-bit) and ssim_fixture.json.

Definitions (sparse_view_methods.md section 2.3):
  ssim_sk   skimage.metrics.structural_similarity(a, b, channel_axis=2, data_range=1.0):
            7x7 uniform window, sample covariance, K1 0.01, K2 0.03, border of 3 cropped,
            mean over channels (FreeNeRF/SparseNeRF eval.py, DNGaussian/CoR-GS "SSIM_sk").
  ssim_sk_range2  the same with data_range=2.0: what RegNeRF's released eval.py gets on float
            images when it omits data_range (skimage then takes the float dtype range [-1, 1]).
  ssim_gs   3DGS utils/loss_utils.ssim: 11x11 Gaussian (sigma 1.5) window, zero-padded "same"
            convolution, C1 = 0.01^2, C2 = 0.03^2, mean over every pixel and channel.
  psnr      -10 log10(mean squared error over every value).
  llff_splits  the LLFF split of RegNeRF/FreeNeRF/DNGaussian/FSGS: test = i % 8 == 0, train views
            = [train[round(x)] for x in np.linspace(0, len(train) - 1, n)] (Python round:
            half to even).
"""
import json
import os

import numpy as np
import scipy
import scipy.ndimage
import skimage
from skimage.io import imread, imsave
from skimage.metrics import structural_similarity

HERE = os.path.dirname(os.path.abspath(__file__))
W, H = 40, 30


def make_pairs():
    rng = np.random.default_rng(20240607)
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    pairs = []
    # Pair 0: smooth colour ramps with a bright disc; b = a + noise and a small brightness shift.
    a = np.stack([x / (W - 1), y / (H - 1), 0.5 + 0.4 * np.sin(x / 5.0) * np.cos(y / 4.0)], axis=2)
    a[(x - 20) ** 2 + (y - 14) ** 2 < 49] = [0.95, 0.9, 0.2]
    b = a + rng.normal(0.0, 0.06, a.shape) + 0.03
    pairs.append((a, b))
    # Pair 1: random texture; b = the texture shifted by one pixel, blurred, with a dark square.
    a = rng.uniform(0.0, 1.0, (H, W, 3))
    a = scipy.ndimage.gaussian_filter(a, sigma=(0.7, 0.7, 0))
    b = np.roll(a, shift=1, axis=1)
    b = scipy.ndimage.gaussian_filter(b, sigma=(1.0, 1.0, 0))
    b[5:15, 22:34] *= 0.3
    pairs.append((a, b))
    return [(to_u8(a), to_u8(b)) for a, b in pairs]


def to_u8(img):
    return np.clip(np.round(np.clip(img, 0.0, 1.0) * 255.0), 0, 255).astype(np.uint8)


def ssim_gs(a, b):
    g = np.exp(-((np.arange(11) - 5.0) ** 2) / (2 * 1.5**2))
    g /= g.sum()

    def blur(img):  # separable "same" correlation with zero padding, per channel
        out = scipy.ndimage.correlate1d(img, g, axis=0, mode="constant", cval=0.0)
        return scipy.ndimage.correlate1d(out, g, axis=1, mode="constant", cval=0.0)

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = blur(a), blur(b)
    s_aa = blur(a * a) - mu_a**2
    s_bb = blur(b * b) - mu_b**2
    s_ab = blur(a * b) - mu_a * mu_b
    m = ((2 * mu_a * mu_b + c1) * (2 * s_ab + c2)) / ((mu_a**2 + mu_b**2 + c1) * (s_aa + s_bb + c2))
    return float(m.mean())


def psnr(a, b):
    return float(-10.0 * np.log10(np.mean((a - b) ** 2)))


def llff_split(n_images, n_views):
    train = [i for i in range(n_images) if i % 8 != 0]
    test = [i for i in range(n_images) if i % 8 == 0]
    sub = [round(v) for v in np.linspace(0, len(train) - 1, n_views)]
    return [train[j] for j in sub], test


def main():
    out = {
        "versions": {
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "scikit-image": skimage.__version__,
        },
        "pairs": [],
        "llff_splits": [],
    }
    for k, (a8, b8) in enumerate(make_pairs()):
        names = [f"pair{k}_a.png", f"pair{k}_b.png"]
        for name, img in zip(names, (a8, b8)):
            imsave(os.path.join(HERE, name), img, check_contrast=False)
        # Read back what was written, as float64 in [0, 1] (8-bit / 255).
        a = imread(os.path.join(HERE, names[0])).astype(np.float64) / 255.0
        b = imread(os.path.join(HERE, names[1])).astype(np.float64) / 255.0
        assert a.shape == (H, W, 3) and b.shape == (H, W, 3)
        out["pairs"].append({
            "a": names[0],
            "b": names[1],
            "ssim_sk": float(structural_similarity(a, b, channel_axis=2, data_range=1.0)),
            "ssim_sk_range2": float(structural_similarity(a, b, channel_axis=2, data_range=2.0)),
            "ssim_gs": ssim_gs(a, b),
            "psnr": psnr(a, b),
        })
    for n_images in range(11, 81):
        for n_views in (3, 6, 9):
            train, test = llff_split(n_images, n_views)
            out["llff_splits"].append(
                {"num_images": n_images, "n_views": n_views, "train": train, "test": test})
    with open(os.path.join(HERE, "ssim_fixture.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    for p in out["pairs"]:
        print(p)
    print(len(out["llff_splits"]), "LLFF splits")


if __name__ == "__main__":
    main()
