#!/usr/bin/env python3
"""Builds the bundled demo scene assets/demo/ from the real LLFF fern scene (images_8, 504x378).

Keeps the 6 images of the 3-view LLFF protocol (test: every 8th image; train: 3 views by linspace
over the other 17), byte copies of the PNGs, the matching rows of poses_bounds.npy with the same
.npy header layout, and split.json. Standard library only; re-runnable (overwrites its outputs).

  python3 tools/make_demo_assets.py [--source DATA/llff/fern] [--dest assets/demo]
"""

import argparse
import ast
import hashlib
import json
import os
import shutil
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NUM_TRAIN = 3
TEST_EVERY = 8
ROW_BYTES = 17 * 8  # float64 N x 17


def default_source():
    data = os.environ.get("GLIMPSE_DATA_DIR")
    if not data:
        data = os.path.join(os.path.dirname(REPO), "shared", "data")
    return os.path.join(data, "llff", "fern")


def protocol_split(names):
    """LLFF sparse-view protocol (RegNeRF, FreeNeRF, DNGaussian): every 8th image is a test view;
    the training views are picked by linspace over the remaining images."""
    test = names[::TEST_EVERY]
    rest = [n for i, n in enumerate(names) if i % TEST_EVERY != 0]
    step = (len(rest) - 1) / (NUM_TRAIN - 1)
    train = [rest[int(round(k * step))] for k in range(NUM_TRAIN)]
    return train, test


def read_npy_v1(path):
    """Returns (header dict text, header length field, data bytes, shape) of a v1.0 '<f8' C-order
    .npy file, checking the layout."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:6] != b"\x93NUMPY" or blob[6] != 1:
        sys.exit(f"{path}: not a version 1.0 .npy file")
    (header_len,) = struct.unpack("<H", blob[8:10])
    header = blob[10:10 + header_len].decode("latin1")
    meta = ast.literal_eval(header)
    shape = meta["shape"]
    if meta["descr"] != "<f8" or meta["fortran_order"] or len(shape) != 2 or shape[1] != 17:
        sys.exit(f"{path}: expected a C-order <f8 N x 17 array, got {meta}")
    data = blob[10 + header_len:]
    if len(data) != meta["shape"][0] * ROW_BYTES:
        sys.exit(f"{path}: {len(data)} data bytes, expected {meta['shape'][0] * ROW_BYTES}")
    return header, data, meta["shape"]


def write_npy_like(path, header, shape, new_rows, data):
    """Writes `data` with the source's header, only the shape changed, padded to the same length."""
    old = "'shape': (%d, %d)" % tuple(shape)
    new = "'shape': (%d, %d)" % (new_rows, shape[1])
    if old not in header:
        sys.exit(f"unexpected header layout: {header!r}")
    body = header.rstrip("\n").replace(old, new)
    width = len(header) - 1
    if len(body.rstrip(" ")) > width:
        sys.exit("new header does not fit the old header length")
    body = body.rstrip(" ").ljust(width) + "\n"
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(body)) + body.encode("latin1") + data)
    os.replace(tmp, path)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_manifest(source, files):
    """Verifies the sources against shared/data/MANIFEST.sha256 when it is there."""
    data_root = os.path.dirname(os.path.dirname(os.path.abspath(source)))  # .../data
    manifest = os.path.join(data_root, "MANIFEST.sha256")
    if not os.path.exists(manifest):
        print(f"note: {manifest} not found, sources not verified")
        return
    expected = {}
    with open(manifest) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                expected[parts[1]] = parts[0]
    for path in files:
        rel = "data/" + os.path.relpath(os.path.abspath(path), data_root).replace(os.sep, "/")
        if rel in expected and expected[rel] != sha256(path):
            sys.exit(f"{path}: sha256 differs from {manifest}")
    print(f"sources match {manifest}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", default=default_source(),
                        help="LLFF fern folder (poses_bounds.npy, images_8/)")
    parser.add_argument("--dest", default=os.path.join(REPO, "assets", "demo"),
                        help="output folder")
    args = parser.parse_args()

    src_images = os.path.join(args.source, "images_8")
    src_poses = os.path.join(args.source, "poses_bounds.npy")
    names = sorted(n for n in os.listdir(src_images)
                   if n.lower().endswith((".png", ".jpg", ".jpeg")) and not n.startswith("."))
    header, data, shape = read_npy_v1(src_poses)
    if len(names) != shape[0]:
        sys.exit(f"{src_images} holds {len(names)} images but {src_poses} has {shape[0]} rows")

    train, test = protocol_split(names)
    keep = sorted(set(train) | set(test))
    rows = [names.index(n) for n in keep]
    check_manifest(args.source, [src_poses] + [os.path.join(src_images, n) for n in keep])

    dst_images = os.path.join(args.dest, "images_8")
    os.makedirs(dst_images, exist_ok=True)
    for stale in os.listdir(dst_images):
        if stale not in keep:
            os.remove(os.path.join(dst_images, stale))
    for n in keep:
        shutil.copyfile(os.path.join(src_images, n), os.path.join(dst_images, n))
    subset = b"".join(data[r * ROW_BYTES:(r + 1) * ROW_BYTES] for r in rows)
    write_npy_like(os.path.join(args.dest, "poses_bounds.npy"), header, shape, len(rows), subset)
    with open(os.path.join(args.dest, "split.json"), "w") as f:
        json.dump({"train": train, "test": test}, f, indent=2)
        f.write("\n")

    print(f"kept rows {rows} of {src_poses}: {keep}")
    print(f"train {train}, test {test}")
    for n in ["poses_bounds.npy", "split.json"] + [os.path.join("images_8", k) for k in keep]:
        print(f"{sha256(os.path.join(args.dest, n))}  {n}")


if __name__ == "__main__":
    main()
