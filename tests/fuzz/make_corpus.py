#!/usr/bin/env python3
"""Writes the committed seed corpora of tests/fuzz/corpus/<target>/ (standard library only).

The seeds mirror the readers' test fixtures (tests/io/*_test.cpp), plus a few malformed inputs per
target. Run from anywhere: python3 tests/fuzz/make_corpus.py. Minimised crash inputs found by the
fuzzer are committed next to them by hand (named crash-*), and this script leaves those alone.
The checkpoint seeds are generated at build time (fuzz_checkpoint_seeds), not here.
"""
import io
import math
import os
import shutil
import struct
import zipfile

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(ROOT))
CORPUS = os.path.join(ROOT, "corpus")


def put(target, name, data):
    folder = os.path.join(CORPUS, target)
    os.makedirs(folder, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def npy(values, shape, dtype="<f8", fortran=False, version=(1, 0)):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
        dtype, "True" if fortran else "False",
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    size_bytes = 2 if version[0] == 1 else 4
    total = 6 + 2 + size_bytes + len(header) + 1
    header += " " * ((64 - total % 64) % 64) + "\n"
    out = b"\x93NUMPY" + bytes(version)
    out += struct.pack("<H" if size_bytes == 2 else "<I", len(header)) + header.encode("latin1")
    code = {"<f8": "d", "<f4": "f", "<i8": "q", "<i4": "i", "<i2": "h", "|i1": "b", "<u8": "Q",
            "<u4": "I", "<u2": "H", "|u1": "B", "|b1": "?", ">f8": "d"}[dtype]
    endian = ">" if dtype.startswith(">") else "<"
    return out + struct.pack(endian + code * len(values), *values)


def npz(members, compression=zipfile.ZIP_STORED, zip64=False):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in members.items():
            with z.open(name, "w", force_zip64=zip64) as f:
                f.write(data)
    return buf.getvalue()


# [SECTION] npy / npz --------------------------------------------------------------------------
def make_npy():
    put("npy", "f8_2x3.npy", npy([1, 2, 3, 4, 5, 6], (2, 3)))
    put("npy", "f4_fortran.npy", npy([1.5, -2, 3, 4], (2, 2), "<f4", fortran=True))
    put("npy", "u1_scalar.npy", npy([7], (), "|u1"))
    put("npy", "i2_1d.npy", npy([-3, 0, 3], (3,), "<i2"))
    put("npy", "b1_3d.npy", npy([True, False] * 4, (2, 2, 2), "|b1"))
    put("npy", "i8_v2.npy", npy([1, 2], (1, 2), "<i8", version=(2, 0)))
    put("npy", "u4_v3.npy", npy([1, 2, 3], (3, 1), "<u4", version=(3, 0)))
    put("npy", "bad_truncated.npy", npy([1, 2, 3, 4, 5, 6], (2, 3))[:-5])
    put("npy", "bad_big_endian.npy", npy([1.0], (1,), ">f8"))
    put("npy", "bad_huge_shape.npy", npy([], (1000000000, 1000000000)))
    put("npy", "bad_magic.npy", b"\x93NUMPX\x01\x00" + npy([1.0], (1,))[8:])


def make_npz():
    a = npy([1, 2, 3, 4], (2, 2))
    b = npy([5], (1,), "<f4")
    put("npz", "stored.npz", npz({"a.npy": a, "b.npy": b}))
    put("npz", "deflated.npz", npz({"a.npy": a, "notes.txt": b"hi"}, zipfile.ZIP_DEFLATED))
    put("npz", "zip64.npz", npz({"a.npy": a}, zipfile.ZIP_DEFLATED, zip64=True))
    bad = bytearray(npz({"a.npy": a}))
    bad[40] ^= 0xFF  # inside the member data: CRC mismatch
    put("npz", "bad_crc.npz", bytes(bad))
    put("npz", "bad_truncated.npz", npz({"a.npy": a})[:-30])
    put("npz", "bad_member.npz", npz({"a.npy": b"not an npy"}))


# [SECTION] PLY --------------------------------------------------------------------------------
SPLAT_BASE = ["x", "y", "z", "nx", "ny", "nz", "f_dc_0", "f_dc_1", "f_dc_2"]
SPLAT_TAIL = ["opacity", "scale_0", "scale_1", "scale_2", "rot_0", "rot_1", "rot_2", "rot_3"]


def splat_vertex(i, rest):
    return ([0.1 * i, -0.2, 1.0 + i, 0, 0, 0, 0.5, -0.5, 0.25] + [0.01 * k for k in range(rest)] +
            [-1.0, -3.0, -3.5, -4.0, 1.0, 0.0, 0.1 * i, 0.0])


def splat_ply(n, rest, fmt="binary_little_endian"):
    names = SPLAT_BASE + ["f_rest_%d" % k for k in range(rest)] + SPLAT_TAIL
    head = "ply\nformat %s 1.0\nelement vertex %d\n" % (fmt, n)
    head += "".join("property float %s\n" % p for p in names) + "end_header\n"
    rows = [splat_vertex(i, rest) for i in range(n)]
    if fmt == "ascii":
        return (head + "".join(" ".join("%g" % v for v in r) + "\n" for r in rows)).encode()
    end = "<" if fmt == "binary_little_endian" else ">"
    return head.encode() + b"".join(struct.pack(end + "f" * len(r), *r) for r in rows)


def make_splat_ply():
    put("splat_ply", "deg0.ply", splat_ply(2, 0))
    put("splat_ply", "deg1.ply", splat_ply(1, 9))
    put("splat_ply", "deg3.ply", splat_ply(1, 45))
    put("splat_ply", "ascii.ply", splat_ply(2, 0, "ascii"))
    # Reordered properties of mixed types, an extra element skipped.
    names = SPLAT_TAIL + SPLAT_BASE[::-1] + ["extra"]
    types = ["double", "float", "float", "float", "float", "float", "float", "float"] + \
            ["float"] * 9 + ["uchar"]
    head = "ply\nformat binary_little_endian 1.0\ncomment SuperSplat\nelement vertex 1\n"
    head += "".join("property %s %s\n" % (t, p) for t, p in zip(types, names))
    head += "element face 1\nproperty list uchar int vertex_indices\nend_header\n"
    vals = [-1.0, -3.0, -3.5, -4.0, 1.0, 0.0, 0.0, 0.0, 0.25, -0.5, 0.5, 0, 0, 0, 1.0, -0.2, 0.1]
    body = struct.pack("<d", vals[0]) + struct.pack("<16f", *vals[1:]) + b"\x07"
    body += b"\x03" + struct.pack("<3i", 0, 0, 0)
    put("splat_ply", "mixed_types.ply", head.encode() + body)
    put("splat_ply", "bad_truncated.ply", splat_ply(2, 0)[:-7])
    put("splat_ply", "bad_big_endian.ply", splat_ply(1, 0, "binary_big_endian"))
    put("splat_ply", "bad_missing_opacity.ply",
        splat_ply(1, 0, "ascii").replace(b"property float opacity\n", b""))
    put("splat_ply", "bad_huge_count.ply",
        splat_ply(1, 0).replace(b"element vertex 1\n", b"element vertex 4000000000\n"))
    put("splat_ply", "bad_rest_count.ply", splat_ply(1, 5, "ascii"))


def make_point_cloud_ply():
    put("point_cloud_ply", "ascii.ply",
        "ply\nformat ascii 1.0\ncomment other writer\nelement vertex 2\nproperty double x\n"
        "property double y\nproperty double z\nproperty float red\nproperty float green\n"
        "property float blue\nend_header\n1 2 3 0.25 0.5 1\n-1 -2 -3 0 0 0\n")
    head = ("ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\n"
            "property float y\nproperty float z\nproperty float nx\nproperty float ny\n"
            "property float nz\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n"
            "property float support\nend_header\n")
    rows = b"".join(struct.pack("<6f3Bf", i, 2.0 * i, -1.0, 0, 0, 1, 10 * i, 20, 30, 0.5)
                    for i in range(2))
    put("point_cloud_ply", "binary_normals.ply", head.encode() + rows)
    be = head.replace("binary_little_endian", "binary_big_endian")
    rows = b"".join(struct.pack(">6f3Bf", i, 2.0 * i, -1.0, 0, 0, 1, 10 * i, 20, 30, 0.5)
                    for i in range(2))
    put("point_cloud_ply", "binary_big_endian.ply", be.encode() + rows)
    put("point_cloud_ply", "xyz_only.ply",
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n1 2 3\n")
    put("point_cloud_ply", "bad_missing_z.ply",
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "end_header\n1 2\n")
    put("point_cloud_ply", "bad_truncated.ply", head.encode() + rows[:-9])
    put("point_cloud_ply", "bad_nan.ply",
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n"
        "property float z\nend_header\n1 nan 2\n")


# [SECTION] COLMAP -----------------------------------------------------------------------------
CAMERAS_TXT = ("# Camera list with one line of data per camera:\n"
               "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
               "# Number of cameras: 2\n"
               "1 PINHOLE 640 480 500 510 320.5 240.25\n"
               "2 SIMPLE_RADIAL 800 600 700 400 300 0.01\n")
IMAGES_TXT = ("# Image list with two lines of data per image:\n"
              "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n"
              "#   POINTS2D[] as (X, Y, POINT3D_ID)\n"
              "1 0.7071067811865476 0 0.7071067811865476 0 1 2 3 1 b.png\n"
              "10.5 20.25 -1 30 40 7\n"
              "2 1 0 0 0 -1 0 2 2 a.png\n"
              "\n")
POINTS_TXT = ("# 3D point list with one line of data per point:\n"
              "7 0.5 0.25 4 255 128 0 0.3 1 1 2 0\n"
              "9 -1 2 8 10 20 30 1.5\n")
# One camera of every model with mild distortion (parameter counts from io/colmap.h).
MODELS = [("SIMPLE_PINHOLE", 3), ("PINHOLE", 4), ("SIMPLE_RADIAL", 4), ("RADIAL", 5),
          ("OPENCV", 8), ("OPENCV_FISHEYE", 8), ("FULL_OPENCV", 12), ("FOV", 5),
          ("SIMPLE_RADIAL_FISHEYE", 4), ("RADIAL_FISHEYE", 5), ("THIN_PRISM_FISHEYE", 12),
          ("RAD_TAN_THIN_PRISM_FISHEYE", 16), ("SIMPLE_DIVISION", 4), ("DIVISION", 5),
          ("SIMPLE_FISHEYE", 3), ("FISHEYE", 4), ("EUCM", 6), ("EQUIRECTANGULAR", 2)]


def model_params(name, count):
    if name == "EQUIRECTANGULAR":
        return [640, 320]
    single = name.startswith("SIMPLE") or name in ("RADIAL", "RADIAL_FISHEYE")
    base = [500, 320, 240] if single else [500, 510, 320, 240]
    rest = [0.01 * (k + 1) for k in range(count - len(base))]
    if name == "EUCM":
        rest = [0.5, 1.0]
    if name == "FOV":
        rest = [0.9]
    return base + rest


def make_colmap():
    put("colmap_text", "cameras.txt", CAMERAS_TXT)
    put("colmap_text", "images.txt", IMAGES_TXT)
    put("colmap_text", "points3D.txt", POINTS_TXT)
    put("colmap_text", "all_models.txt", "".join(
        "%d %s 640 480 %s\n" % (i + 1, n, " ".join(repr(float(p)) for p in model_params(n, c)))
        for i, (n, c) in enumerate(MODELS)))
    put("colmap_text", "bad_model.txt", "1 PINHOLE_X 640 480 1 2 3 4\n")
    put("colmap_text", "bad_param_count.txt", "1 PINHOLE 640 480 1 2 3\n")
    put("colmap_text", "bad_image_line.txt", "1 1 0 0 0 0 0 0 1\n\n")

    def cam(cid, model, w, h, params):
        return struct.pack("<IiQQ", cid, model, w, h) + struct.pack("<%dd" % len(params), *params)
    cams = struct.pack("<Q", 2) + cam(1, 1, 640, 480, [500, 510, 320.5, 240.25]) + \
        cam(2, 2, 800, 600, [700, 400, 300, 0.01])
    put("colmap_binary", "cameras.bin", cams)
    allm = struct.pack("<Q", len(MODELS)) + b"".join(
        cam(i + 1, i, 640, 480, model_params(n, c)) for i, (n, c) in enumerate(MODELS))
    put("colmap_binary", "all_models.bin", allm)
    h = math.sqrt(0.5)
    imgs = struct.pack("<Q", 2)
    imgs += struct.pack("<I7dI", 1, h, 0, h, 0, 1, 2, 3, 1) + b"b.png\0" + struct.pack("<Q", 2)
    imgs += struct.pack("<2dQ", 10.5, 20.25, 2**64 - 1) + struct.pack("<2dQ", 30, 40, 7)
    imgs += struct.pack("<I7dI", 2, 1, 0, 0, 0, -1, 0, 2, 2) + b"a.png\0" + struct.pack("<Q", 0)
    put("colmap_binary", "images.bin", imgs)
    pts = struct.pack("<Q", 2)
    pts += struct.pack("<Q3d3Bd", 7, 0.5, 0.25, 4, 255, 128, 0, 0.3) + struct.pack("<Q4I", 2, 1,
                                                                                   1, 2, 0)
    pts += struct.pack("<Q3d3Bd", 9, -1, 2, 8, 10, 20, 30, 1.5) + struct.pack("<Q", 0)
    put("colmap_binary", "points3D.bin", pts)
    put("colmap_binary", "bad_truncated.bin", cams[:-3])
    put("colmap_binary", "bad_huge_count.bin", struct.pack("<Q", 2**62) + cams[8:])
    put("colmap_binary", "bad_trailing.bin", cams + b"\0")


# [SECTION] JSON cameras -----------------------------------------------------------------------
IDENTITY = "[[1,0,0,0],[0,1,0,0],[0,0,1,4],[0,0,0,1]]"


def make_json_cameras():
    put("transforms_json", "blender.json",
        '{"camera_angle_x": 0.6911112070083618, "frames": [\n'
        ' {"file_path": "./train/r_0", "rotation": 0.012, "transform_matrix": %s},\n'
        ' {"file_path": "./train/r_1",\n'
        '  "transform_matrix": [[0, 0, 1, 4], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]}]}\n'
        % IDENTITY)
    put("transforms_json", "blender_sized.json",
        '{"camera_angle_x": 0.69, "w": 800, "h": 800, "frames": [\n'
        ' {"file_path": "./train/r_0", "transform_matrix": %s},\n'
        ' {"file_path": "./train/r_1",\n'
        '  "transform_matrix": [[0, 0, 1, 4], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]}]}\n'
        % IDENTITY)
    put("transforms_json", "instant_ngp.json",
        '{"camera_angle_x": 0.7, "fl_x": 1375.5, "fl_y": 1374.5, "cx": 554.5, "cy": 965.25,\n'
        ' "w": 1080.0, "h": 1920.0, "k1": 0.05, "k2": -0.08, "p1": -0.001, "p2": 0.0002,\n'
        ' "aabb_scale": 4, "frames": [\n'
        ' {"file_path": "images/0001.jpg", "sharpness": 31.7, "transform_matrix": %s},\n'
        ' {"file_path": "images/0002.jpg", "fl_x": 1000, "k1": 0, "k2": 0, "p1": 0, "p2": 0,\n'
        '  "k3": 0.01, "k4": 0.001, "transform_matrix": [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 4]]}'
        ']}\n' % IDENTITY)
    put("transforms_json", "fisheye.json",
        '{"camera_model": "OPENCV_FISHEYE", "fl_x": 10, "w": 64, "h": 48, "k1": 0.1, "frames": [\n'
        ' {"file_path": "a", "transform_matrix": %s},\n'
        ' {"file_path": "b.png", "is_fisheye": true, "transform_matrix": %s}]}\n'
        % (IDENTITY, IDENTITY))
    put("transforms_json", "bad_last_row.json",
        '{"fl_x": 5, "w": 4, "h": 4, "frames": [{"file_path": "a", "transform_matrix": '
        '[[1,0,0,0],[0,1,0,0],[0,0,1,0],[0,0,1,1]]}]}')
    put("transforms_json", "bad_json.json", '{"frames": [')
    put("transforms_json", "bad_model.json",
        '{"camera_model": "EQUIRECTANGULAR", "frames": [{"file_path": "a", '
        '"transform_matrix": %s}]}' % IDENTITY)

    entry = ('{"id": %d, "img_name": "%s", "width": 800, "height": 600, '
             '"position": [0.0, 0.0, -4.0], "rotation": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], '
             '[0.0, 0.0, 1.0]], "fy": 700.0000000000001, "fx": 699.9999999999999%s}')
    put("cameras_json", "reference.json", "[" + entry % (3, "DSC00001", "") + "]")
    put("cameras_json", "with_cxcy.json",
        "[" + entry % (0, "a", ', "cx": 401.5, "cy": 299.25') + ", " +
        (entry % (1, "b", "")).replace("[0.0, 0.0, -4.0]", "[1.0, 2.0, 3.0]") + "]")
    put("cameras_json", "bad_rotation.json",
        "[" + (entry % (0, "a", "")).replace("[0.0, 1.0, 0.0]", "[0.0, 2.0, 0.0]") + "]")
    put("cameras_json", "bad_missing_fx.json", '[{"id": 0, "img_name": "a", "width": 4}]')
    put("cameras_json", "bad_not_array.json", '{"id": 0}')


# [SECTION] DTU, LLFF, depth -------------------------------------------------------------------
def matmul(a, b):
    return [[sum(a[i][k] * b[k][j] for k in range(len(b))) for j in range(len(b[0]))]
            for i in range(len(a))]


def look_at_projection(angle):
    # Camera 600 mm from the origin on a ring, looking at it (OpenCV frame), K of a 1600x1200 frame.
    eye = [600 * math.cos(angle), -200.0, 600 * math.sin(angle)]
    n = math.sqrt(sum(e * e for e in eye))
    fwd = [-e / n for e in eye]
    right = [-fwd[2], 0.0, fwd[0]]  # cross((0, 1, 0), fwd)
    rn = math.sqrt(sum(r * r for r in right))
    right = [r / rn for r in right]
    down = [fwd[1] * right[2] - fwd[2] * right[1], fwd[2] * right[0] - fwd[0] * right[2],
            fwd[0] * right[1] - fwd[1] * right[0]]
    rot = [right, down, fwd]
    t = [-sum(rot[i][j] * eye[j] for j in range(3)) for i in range(3)]
    k = [[2892.3, 0.0, 823.2], [0.0, 2883.2, 619.1], [0.0, 0.0, 1.0]]
    rt = [rot[i] + [t[i]] for i in range(3)]
    return matmul(k, rt)


def flat4(p):
    return [v for row in p for v in row] + [0.0, 0.0, 0.0, 1.0]


def make_dtu():
    mats = {}
    for i in range(3):
        mats["world_mat_%d.npy" % i] = npy(flat4(look_at_projection(0.4 * i)), (4, 4))
    scale = [231.0, 0, 0, -10.0, 0, 231.0, 0, 5.0, 0, 0, 231.0, 620.0, 0, 0, 0, 1.0]
    with_scale = dict(mats)
    for i in range(3):
        with_scale["scale_mat_%d.npy" % i] = npy(scale, (4, 4))
    put("dtu_idr", "cameras_sphere.npz", npz(with_scale))
    put("dtu_idr", "no_scale_mat.npz", npz(mats, zipfile.ZIP_DEFLATED))
    three_by_four = {k: npy(flat4(look_at_projection(0.4 * i))[:12], (3, 4))
                     for i, k in enumerate(mats)}
    put("dtu_idr", "3x4.npz", npz(three_by_four))
    put("dtu_idr", "bad_missing_view.npz", npz({"world_mat_0.npy": mats["world_mat_0.npy"]}))
    bad = dict(with_scale)
    bad["scale_mat_0.npy"] = npy([1, 2, 3, 4, 5, 6, 7, 8, 9], (3, 3))
    put("dtu_idr", "bad_scale_mat.npz", npz(bad))

    p = look_at_projection(0.3)
    put("dtu_cam", "pos_001.txt", "\n".join(" ".join("%.6f" % v for v in row) for row in p) + "\n")
    # MVSNet cam.txt: the same camera as extrinsic + intrinsic.
    k = [[2892.3, 0.0, 823.2], [0.0, 2883.2, 619.1], [0.0, 0.0, 1.0]]
    kinv_p = [[v for v in row] for row in p]
    # Extrinsic from P = K [R|t]: solve K^-1 P (K upper triangular).
    fx, s, cx, fy, cy = k[0][0], k[0][1], k[0][2], k[1][1], k[1][2]
    r2 = kinv_p[2]
    r1 = [(kinv_p[1][j] - cy * r2[j]) / fy for j in range(4)]
    r0 = [(kinv_p[0][j] - s * r1[j] - cx * r2[j]) / fx for j in range(4)]
    ext = [r0, r1, r2, [0, 0, 0, 1]]
    text = "extrinsic\n" + "".join(" ".join("%.9f" % v for v in row) + "\n" for row in ext)
    text += "\nintrinsic\n" + "".join(" ".join("%.4f" % v for v in row) + "\n" for row in k)
    put("dtu_cam", "00000000_cam.txt", text + "\n425.0 2.5\n")
    put("dtu_cam", "00000001_cam.txt", text + "\n425.0 2.5 192 905.0\n")
    put("dtu_cam", "no_depth.txt", text)
    put("dtu_cam", "bad_keyword.txt", text.replace("intrinsic", "intrinsics"))
    put("dtu_cam", "bad_singular.txt", "0 0 0 0\n0 0 0 0\n0 0 0 0\n")


def make_llff():
    with open(os.path.join(REPO, "assets", "demo", "poses_bounds.npy"), "rb") as f:
        demo = f.read()
    put("llff", "demo_poses_bounds.npy", demo)
    # The first 3 rows of the demo scene, as float64 written by hand.
    header_len = struct.unpack("<H", demo[8:10])[0]
    values = struct.unpack("<%dd" % (6 * 17), demo[10 + header_len:10 + header_len + 6 * 17 * 8])
    put("llff", "three_rows.npy", npy(values[:3 * 17], (3, 17)))
    put("llff", "one_row_f4.npy", npy(values[:17], (1, 17), "<f4"))
    bad = list(values[:2 * 17])
    bad[15] = -1.0  # near < 0
    put("llff", "bad_bounds.npy", npy(bad, (2, 17)))
    put("llff", "bad_shape.npy", npy(values[:2 * 15], (2, 15)))
    bad = list(values[:17])
    bad[3] = float("nan")
    put("llff", "bad_nan.npy", npy(bad, (1, 17)))


def pfm(kind, w, h, values, scale=-1.0):
    end = "<" if scale < 0 else ">"
    return ("%s\n%d %d\n%g\n" % (kind, w, h, scale)).encode() + struct.pack(
        end + "%df" % len(values), *values)


def make_depth():
    put("depth", "gray_le.pfm", pfm("Pf", 4, 3, [float(i) for i in range(12)]))
    put("depth", "gray_be.pfm", pfm("Pf", 2, 2, [1.0, 2.0, 3.0, 4.0], scale=1.0))
    put("depth", "color.pfm", pfm("PF", 2, 1, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]))
    put("depth", "spaces.pfm", b"Pf 2 1 -1.0\n" + struct.pack("<2f", 0.5, float("inf")))
    put("depth", "f4_hw.npy", npy([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], (2, 3), "<f4"))
    put("depth", "f8_hw1.npy", npy([1.0, 2.0], (1, 2, 1)))
    put("depth", "u2_1hw.npy", npy([100, 200], (1, 1, 2), "<u2"))
    put("depth", "bad_truncated.pfm", pfm("Pf", 4, 3, [0.0] * 12)[:-5])
    put("depth", "bad_huge.pfm", b"Pf\n100000 100000\n-1\n" + b"\0" * 16)
    put("depth", "bad_3d.npy", npy([1.0] * 8, (2, 2, 2)))


def make_train_config():
    put("train_config", "partial.json",
        '{"trainer": {"iterations": 123, "lr": {"opacity": 0.01}}, "init": "random"}')
    put("train_config", "bad_key.json", '{"iteratoins": 5}')
    put("train_config", "bad_type.json", '{"threads": "two"}')
    put("train_config", "bad_enum.json", '{"trainer": {"strategy": "magic"}}')
    put("train_config", "bad_json.json", '{"trainer": ')


def make_checkpoint():
    # Malformed only: valid seeds come from fuzz_checkpoint_seeds at build time.
    put("checkpoint", "bad_magic.ckpt", b"GLMPCKPX\x02\x00\x00\x00" + b"\0" * 16)
    put("checkpoint", "bad_version.ckpt", b"GLMPCKPT\x01\x00\x00\x00" + b"\0" * 16)
    put("checkpoint", "bad_metadata_size.ckpt",
        b"GLMPCKPT\x02\x00\x00\x00" + struct.pack("<Q", 2**40) + b"{}")
    put("checkpoint", "bad_short.ckpt", b"GLMPCKPT")


def main():
    for target in ("npy", "npz", "splat_ply", "point_cloud_ply", "colmap_text", "colmap_binary",
                   "transforms_json", "cameras_json", "dtu_idr", "dtu_cam", "llff", "depth",
                   "train_config", "checkpoint"):
        folder = os.path.join(CORPUS, target)
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if not name.startswith("crash-") and name != "full_config.json":
                    os.remove(os.path.join(folder, name))
    make_npy()
    make_npz()
    make_splat_ply()
    make_point_cloud_ply()
    make_colmap()
    make_json_cameras()
    make_dtu()
    make_llff()
    make_depth()
    make_train_config()
    make_checkpoint()


if __name__ == "__main__":
    main()
