import pickle
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
import torch

from simcomp.data import PairedClips, SurrealClips, VideoFolder, collate_clips
from simcomp.data.pw3d import load_sequence, load_split, tracks_of
from simcomp.data.surreal import find_clips, project, read_clip, read_info
from simcomp.joints import SMPL_FLIP

# A real SURREAL _info.mat (gulvarol/surreal, datageneration/misc/3Dto2D), copied from the
# project's shared test data so the test never depends on a folder outside the repository.
REAL_INFO = Path(__file__).resolve().parent / "data" / "01_01_c0001_info.mat"


def _real_info():
    return REAL_INFO


def test_real_surreal_info_projects_onto_its_2d_joints():
    info = read_info(_real_info(), swap_left_right=False)
    assert info["joints_3d"].shape == (100, 24, 3) and info["pose"].shape == (100, 72)
    proj = project(info["joints_3d"])
    # joints2D are the rounded projections: within half a pixel (plus float32 noise)
    assert np.abs(proj - info["joints_2d"]).max() <= 0.5 + 1e-3
    assert (info["joints_3d"][..., 2] > 0).all()  # in front of the camera


def test_swap_left_right_relabels_only():
    plain = read_info(_real_info(), swap_left_right=False)
    swapped = read_info(_real_info(), swap_left_right=True)
    np.testing.assert_array_equal(swapped["joints_2d"], plain["joints_2d"][:, list(SMPL_FLIP)])
    np.testing.assert_array_equal(swapped["pose"], plain["pose"])


def _write_surreal_clip(folder: Path, name="01_01_c0002", t=6, h=48, w=64):
    """A tiny clip in SURREAL's format: the real info file's first frames, mp4, segm, depth."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / name
    info = scipy.io.loadmat(str(_real_info()))
    keep = {k: v for k, v in info.items() if not k.startswith("__")}
    for k in ("joints2D", "joints3D", "pose", "shape"):
        keep[k] = keep[k][..., :t]
    scipy.io.savemat(str(stem) + "_info.mat", keep)
    rng = np.random.default_rng(0)
    segm = {
        f"segm_{i + 1}": (rng.random((h, w)) < 0.3).astype(np.uint8) * rng.integers(1, 25)
        for i in range(t)
    }
    depth = {
        f"depth_{i + 1}": np.where(segm[f"segm_{i + 1}"] > 0, 5.0 + i, 1e10).astype(np.float32)
        for i in range(t)
    }
    scipy.io.savemat(str(stem) + "_segm.mat", segm)
    scipy.io.savemat(str(stem) + "_depth.mat", depth)
    writer = cv2.VideoWriter(str(stem) + ".mp4", cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    frames = [np.full((h, w, 3), 20 * i, np.uint8) for i in range(t)]
    for f in frames:
        writer.write(f)
    writer.release()
    return stem, segm, depth, frames


def test_surreal_clip_round_trip(tmp_path):
    stem, segm, depth, frames = _write_surreal_clip(tmp_path / "cmu/train/run0/01_01")
    clip = read_clip(stem, start=1, num_frames=4, swap_left_right=False)
    assert clip.person_rgb.shape == (1, 4, 3, 48, 64)
    np.testing.assert_array_equal(clip.person_mask[0, 0].numpy(), segm["segm_2"] > 0)
    d = clip.person_depth[0, 2].numpy()
    assert np.isinf(d[segm["segm_4"] == 0]).all() and (d[segm["segm_4"] > 0] == 8.0).all()
    assert abs(float(clip.person_rgb[0, 3].mean()) * 255 - 80) < 3  # frame 4 of the video (lossy)
    info = read_info(stem.with_name(stem.name + "_info.mat"), swap_left_right=False)
    np.testing.assert_allclose(clip.joints_2d[0].numpy(), info["joints_2d"][1:5], rtol=0, atol=1e-4)
    assert find_clips(tmp_path) == [stem]
    ds = SurrealClips(tmp_path, num_frames=3, seed=1)
    assert len(ds) == 1 and ds[0].num_frames == 3


def test_surreal_errors_name_file_and_field(tmp_path):
    stem, *_ = _write_surreal_clip(tmp_path)
    with pytest.raises(ValueError, match="window .* outside 6 frames"):
        read_clip(stem, start=4, num_frames=4)
    bad = stem.with_name(stem.name + "_depth.mat")
    bad.write_bytes(bad.read_bytes()[:100])  # truncated
    with pytest.raises(ValueError, match=r"_depth.mat: cannot read the SURREAL depth file"):
        read_clip(stem, 0, 2)
    scipy.io.savemat(str(bad), {"depth_1": np.zeros((48, 64))})
    with pytest.raises(KeyError, match=r"_depth.mat: field 'depth_2' is missing"):
        read_clip(stem, 0, 2)
    stem.with_name(stem.name + "_segm.mat").unlink()
    with pytest.raises(FileNotFoundError, match="segm file is missing"):
        read_clip(stem, 0, 2)
    with pytest.raises(FileNotFoundError, match="no complete SURREAL clip"):
        SurrealClips(tmp_path)


def _write_video(path: Path, t, h=60, w=90):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    for i in range(t):
        writer.write(np.full((h, w, 3), 10 * i, np.uint8))
    writer.release()


def test_video_folder(tmp_path):
    _write_video(tmp_path / "a/long.mp4", 12)
    _write_video(tmp_path / "b/short.mp4", 3)
    (tmp_path / "b/broken.avi").write_bytes(b"not a video")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = VideoFolder(tmp_path, num_frames=5, size=(24, 32), seed=0)
    messages = " ".join(str(w.message) for w in caught)
    assert "short.mp4: skipped, it has 3 frames" in messages and "broken.avi: skipped" in messages
    assert len(ds) == 1
    clip = ds[0]
    assert clip.background.shape == (1, 5, 3, 24, 32)
    assert torch.equal(ds[0].background, clip.background)  # same index, same window
    assert (tmp_path / ".simcomp_video_index.json").exists()  # index cached
    with pytest.warns(UserWarning, match="skipped"), pytest.raises(ValueError, match="no readable"):
        VideoFolder(tmp_path / "b", num_frames=5)


def test_paired_clips_collate():
    from simcomp.data.synthetic import background_clips, person_clips

    g = torch.Generator().manual_seed(0)
    persons = [person_clips(1, 3, (24, 32), g) for _ in range(2)]
    backgrounds = [background_clips(1, 3, (24, 32), g) for _ in range(3)]
    ds = PairedClips(persons, backgrounds, length=4, seed=2)
    batch = collate_clips([ds[i] for i in range(4)])
    assert batch.batch_size == 4 and batch.person_rgb is not None and batch.background is not None


def _py2_pickle(obj: dict, sequence: bytes) -> bytes:
    """A protocol-2 pickle whose 'sequence' is a Python 2 str (SHORT_BINSTRING) of raw bytes."""
    placeholder = "SEQUENCE_PLACEHOLDER"
    data = pickle.dumps({**obj, "sequence": placeholder}, protocol=2)
    utf = placeholder.encode()
    old = b"X" + struct.pack("<I", len(utf)) + utf
    assert data.count(old) == 1
    return data.replace(old, b"U" + bytes([len(sequence)]) + sequence)


def _write_3dpw(root: Path, n=5):
    rng = np.random.default_rng(0)
    cam = np.tile(np.eye(4), (n, 1, 1))
    cam[:, :3, 3] = [0.1, 0.2, 3.0]
    joints = rng.normal(size=(n, 72))
    poses2d = rng.random((n, 3, 18)) * 100
    seq = {
        "img_frame_ids": np.arange(n), "cam_poses": cam, "cam_intrinsics": np.eye(3),
        "poses": [rng.normal(size=(n, 72))], "trans": [np.zeros((n, 3))],
        "betas": [np.arange(300.0)], "jointPositions": [joints], "poses2d": [poses2d],
        "campose_valid": [np.ones(n, np.uint8)], "genders": ["f"],
    }  # fmt: skip
    path = root / "sequenceFiles/test/courtyard.pkl"
    path.parent.mkdir(parents=True)
    path.write_bytes(_py2_pickle(seq, b"courtyard_caf\xe9_00"))
    return path, joints, poses2d


def test_3dpw_python2_pickle_round_trip(tmp_path):
    path, joints, poses2d = _write_3dpw(tmp_path)
    with open(path, "rb") as f, pytest.raises(UnicodeDecodeError):
        pickle.load(f)  # what happens without latin1
    (track,) = load_split(tmp_path, "test")
    assert track.sequence == "courtyard_café_00" and track.gender == "f"
    np.testing.assert_allclose(track.joints_3d, joints.reshape(-1, 24, 3) + [0.1, 0.2, 3.0])
    assert track.betas.shape == (10,) and track.campose_valid.all()
    np.testing.assert_array_equal(track.keypoints_2d[:, 0], poses2d[:, :2, 10])  # R ankle
    assert (track.confidence[:, 13] == 0).all()  # no head top in COCO
    assert track.images[2] == tmp_path / "imageFiles/courtyard_café_00/image_00002.jpg"


def test_3dpw_errors(tmp_path):
    path, *_ = _write_3dpw(tmp_path)
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match=r"courtyard.pkl: cannot read this 3DPW sequence file"):
        load_sequence(path)
    path.write_bytes(pickle.dumps({"sequence": "x"}, protocol=2))
    with pytest.raises(KeyError, match=r"courtyard.pkl: field 'cam_poses' is missing"):
        tracks_of(path)
    with pytest.raises(ValueError, match="split: expected one of"):
        load_split(tmp_path, "val")
    with pytest.raises(FileNotFoundError, match="no .pkl files"):
        load_split(tmp_path, "train")


def test_real_surreal_3d_labels_are_anatomically_consistent():
    """Evidence on the left/right question from the real file: with the labels as stored, the
    body's left x up points where the toes point (SMPL: x left, y up, z forward)."""
    from simcomp.joints import SMPL_JOINT_NAMES

    j = read_info(_real_info(), swap_left_right=False)["joints_3d_world"]
    idx = {n: i for i, n in enumerate(SMPL_JOINT_NAMES)}
    up = j[:, idx["neck"]] - j[:, idx["pelvis"]]
    forward = np.cross(j[:, idx["left_hip"]] - j[:, idx["right_hip"]], up)
    toes = (
        j[:, idx["left_foot"]]
        + j[:, idx["right_foot"]]
        - j[:, idx["left_ankle"]]
        - j[:, idx["right_ankle"]]
    )
    cos = (
        (forward * toes).sum(-1) / np.linalg.norm(forward, axis=-1) / np.linalg.norm(toes, axis=-1)
    )
    assert (cos > 0.5).mean() >= 0.9 and np.median(cos) > 0.8  # swapped labels give the negative


def test_left_right_agreement_reads_the_segmentation(tmp_path):
    from simcomp.data.surreal import left_right_agreement

    stem, *_ = _write_surreal_clip(tmp_path, t=3)
    info = read_info(stem.with_name(stem.name + "_info.mat"), swap_left_right=False)
    segm = {}
    for t in range(3):  # paint each joint's pixel with the part of its mirror: a swapped render
        s = np.zeros((240, 320), np.uint8)
        for jnt in range(24):
            x, y = np.floor(info["joints_2d"][t, jnt]).astype(int)
            if 0 <= x < 320 and 0 <= y < 240:
                s[y, x] = SMPL_FLIP[jnt] + 1
        segm[f"segm_{t + 1}"] = s
    scipy.io.savemat(str(stem) + "_segm.mat", segm)
    result = left_right_agreement(stem)
    assert result["joints"] > 0 and result["swapped"] > 0.8 > result["as_stored"]


@pytest.mark.parametrize("name", [b"../../etc", b"a/b", b"..", b"", b"c:evil"])
def test_3dpw_sequence_name_cannot_escape_the_image_root(tmp_path, name):
    path, *_ = _write_3dpw(tmp_path)
    path.write_bytes(_py2_pickle(pickle.loads(path.read_bytes(), encoding="latin1"), name))
    with pytest.raises(ValueError, match=r"courtyard.pkl: field 'sequence' must be a plain folder"):
        tracks_of(path, tmp_path / "imageFiles")


def test_surreal_skip_bad_reads_the_next_clip_with_a_warning(tmp_path):
    good, *_ = _write_surreal_clip(tmp_path / "run0", name="01_01_c0001")
    bad, *_ = _write_surreal_clip(tmp_path / "run0", name="01_01_c0002")
    depth = bad.with_name(bad.name + "_depth.mat")
    depth.write_bytes(depth.read_bytes()[:100])
    strict = SurrealClips(tmp_path, num_frames=3)
    with pytest.raises(ValueError, match=r"c0002_depth.mat: cannot read"):
        strict[1]
    lenient = SurrealClips(tmp_path, num_frames=3, skip_bad=True)
    with pytest.warns(UserWarning, match=r"c0002: skipped"):
        clip = lenient[1]
    assert clip.num_frames == 3


def test_3dpw_skip_bad_sequence_files(tmp_path):
    path, *_ = _write_3dpw(tmp_path)
    (path.parent / "broken.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match=r"broken.pkl: cannot read"):
        load_split(tmp_path, "test")
    with pytest.warns(UserWarning, match=r"broken.pkl: skipped"):
        (track,) = load_split(tmp_path, "test", skip_bad=True)
    assert track.sequence == "courtyard_café_00"
