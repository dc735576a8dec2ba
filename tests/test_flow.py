import numpy as np
import pytest
import torch

from simcomp.data.synthetic import background_clips
from simcomp.flow import (
    CameraMotionEstimator,
    OpenCVDenseFlow,
    OpenCVFlowMedian,
    OpenCVSparseMedian,
    PhaseCorrelation,
    Precomputed,
    integrate_motion,
)
from tests.helpers import gen


def _truth_and_estimate(estimator, device, seeds=(0, 1), batch=3):
    errs = []
    for seed in seeds:
        clip = background_clips(batch, 31, generator=gen(100 + seed), device=device, max_pan=8.0)
        truth = clip.camera_shift.diff(dim=1)
        errs.append((estimator(clip.background) - truth).norm(dim=-1).flatten().cpu())
    return torch.cat(errs)


def test_torch_estimator_accuracy_with_moving_objects(device):  # SPEC R1
    err = _truth_and_estimate(PhaseCorrelation(), device)
    assert err.median() <= 0.25
    assert err.quantile(0.95) <= 1.0


def test_opencv_reference_accuracy():  # SPEC R1
    err = _truth_and_estimate(OpenCVFlowMedian("dis"), torch.device("cpu"), seeds=(0,), batch=2)
    assert err.median() <= 0.25


def test_sparse_median_accuracy_with_moving_objects():  # SPEC R1
    # The CPU default: the median over a grid of tracked points ignores the moving objects.
    err = _truth_and_estimate(OpenCVSparseMedian(), torch.device("cpu"), seeds=(0, 1))
    assert err.median() <= 0.1
    assert err.quantile(0.95) <= 0.5


def test_sparse_median_on_a_real_photo_pan_and_edge_cases():  # SPEC R1, R2
    from benchmarks.flow_accuracy import panned_clips

    video, shift = panned_clips(2, 9, (96, 128), pan=6.0)
    err = (integrate_motion(OpenCVSparseMedian()(video)) - shift).norm(dim=-1)
    assert err.max() <= 0.5
    blank = torch.zeros(1, 3, 3, 40, 40)  # nothing to track: no motion, not NaN
    assert torch.equal(OpenCVSparseMedian()(blank), torch.zeros(1, 2, 2))
    assert OpenCVSparseMedian(step=64).points(20, 30).tolist() == [[[14.5, 9.5]]]
    with pytest.raises(ValueError, match="odd window"):
        OpenCVSparseMedian(window=8)


@pytest.mark.parametrize("preset", ["ultrafast", "ultrafast-full", "fast", "medium"])
def test_dis_presets_and_scale(preset):  # SPEC R22
    from benchmarks.flow_accuracy import dense_pairs

    first, second, truth = dense_pairs(2, (64, 80), magnitude=3.0)
    epe = (OpenCVDenseFlow(preset)(first, second) - truth).norm(dim=1)[:, 8:-8, 8:-8]
    assert epe.median() <= (0.5 if "full" in preset or preset == "medium" else 1.0)
    half = OpenCVFlowMedian("dis", preset, scale=0.5).dense(torch.stack((first, second), 1))
    assert half.shape == (2, 1, 32, 40, 2)  # half size, in full-size pixels
    assert (torch.from_numpy(half[:, 0]).permute(0, 3, 1, 2) - truth[..., ::2, ::2]).norm(
        dim=1
    ).median() <= 1.0
    with pytest.raises(ValueError, match="preset: expected one of"):
        OpenCVDenseFlow("slow")
    with pytest.raises(ValueError, match="scale"):
        OpenCVFlowMedian(scale=2)


def test_estimator_names_keep_their_meaning():
    # Checkpoints record names: "dis" stays DIS "medium" (what it meant before the CPU's
    # default became "dis-ultrafast-full"); "auto" resolves to the names it stands for.
    from simcomp.flow import CAMERA_ESTIMATORS, DENSE_ESTIMATORS, concrete_names

    assert DENSE_ESTIMATORS["dis"]().preset == "medium"
    assert DENSE_ESTIMATORS["dis-ultrafast-full"]().preset == "ultrafast-full"
    assert CAMERA_ESTIMATORS["dis"]().preset == "medium"
    assert isinstance(CAMERA_ESTIMATORS["sparse-lk"](), OpenCVSparseMedian)
    cpu = concrete_names("auto", "auto", torch.device("cpu"))
    assert cpu == ("sparse-lk", "dis-ultrafast-full")
    assert concrete_names("auto", "auto", torch.device("cuda")) == ("phase", "lucas-kanade")


def test_integrate_convention():  # SPEC R2
    motion = torch.tensor([[[1.0, -2.0], [3.0, 0.5], [0.0, 1.0]]])
    shift = integrate_motion(motion)
    assert shift.shape == (1, 4, 2)
    assert torch.equal(shift[0, 2], torch.zeros(2))  # centre frame T//2 = 2
    torch.testing.assert_close(shift.diff(dim=1), motion)


def test_sign_convention_on_a_known_translation(device):  # SPEC R1, R2
    # Content moves +3 px in x and -2 px in y per frame: motion must be (+3, -2).
    base = torch.rand(1, 1, 3, 80, 96, generator=gen(0)).to(device)
    base = torch.nn.functional.avg_pool2d(base[0], 3, 1, 1)[None]
    frames = torch.cat([torch.roll(base, (-2 * k, 3 * k), dims=(-2, -1)) for k in range(3)], 1)
    motion = PhaseCorrelation()(frames)
    torch.testing.assert_close(
        motion.cpu(), torch.tensor([[[3.0, -2.0], [3.0, -2.0]]]), atol=0.05, rtol=0
    )
    shift = integrate_motion(motion)
    torch.testing.assert_close(shift[0, 0].cpu(), torch.tensor([-3.0, 2.0]), atol=0.1, rtol=0)


def test_precomputed_median_and_dense(device):
    motion = torch.randn(2, 4, 2, device=device)
    frames = torch.zeros(2, 5, 3, 8, 8, device=device)
    assert torch.equal(Precomputed(motion)(frames), motion)
    dense = motion[..., None, None].expand(2, 4, 2, 6, 7).clone()
    dense[..., 0, 0] += 100  # an outlier pixel does not move the median
    torch.testing.assert_close(Precomputed(dense)(frames), motion)
    assert isinstance(PhaseCorrelation(), CameraMotionEstimator)


def test_errors():
    with pytest.raises(ValueError, match=r"flow: expected per-frame motion \(B, T-1, 2\)"):
        Precomputed(torch.zeros(2, 3, 2, 4))
    with pytest.raises(ValueError, match="flow: expected motion for"):
        Precomputed(torch.zeros(2, 3, 2))(torch.zeros(2, 5, 3, 8, 8))
    with pytest.raises(TypeError, match="flow: expected a torch.Tensor"):
        Precomputed(np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match="at least 2 frames"):
        PhaseCorrelation()(torch.zeros(1, 1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"frames: expected shape \(\*, \*, 3, \*, \*\)"):
        PhaseCorrelation()(torch.zeros(1, 2, 8, 8))
    with pytest.raises(ValueError, match="method"):
        OpenCVFlowMedian("tvl1")


def test_auto_picks_by_device(device):
    from simcomp.flow import Auto

    calls = []
    auto = Auto(lambda x: calls.append("cpu") or x, lambda x: calls.append("device") or x)
    auto(torch.zeros(1, device=device))
    assert calls == ["cpu" if device.type == "cpu" else "device"]


@pytest.mark.parametrize(
    "pan, dis_ok", [((33, 0), True), ((40, -12), True), ((-40, 25), False), ((2, 1), True)]
)
def test_large_pans_on_a_real_photo(device, pan, dis_ok):  # SPEC R1: beyond half a tile too
    from skimage import data

    photo = torch.from_numpy(data.astronaut()).permute(2, 0, 1).float() / 255  # 512 x 512
    dx, dy = pan
    x0, y0 = 256 - 160 - 2 * dx, 256 - 120 - 2 * dy
    # The window moves by (dx, dy) per frame, so the content moves by (-dx, -dy).
    windows = [photo[:, y0 + k * dy :, x0 + k * dx :][:, :240, :320] for k in range(5)]
    frames = torch.stack(windows)[None].to(device)
    motion = PhaseCorrelation()(frames)
    truth = torch.tensor([-dx, -dy], dtype=torch.float32).expand(1, 4, 2)
    torch.testing.assert_close(motion.cpu(), truth, atol=0.25, rtol=0)
    if dis_ok:  # the CPU path agrees where it can (DIS loses a 40 + 25 px pan)
        torch.testing.assert_close(OpenCVFlowMedian("dis")(frames.cpu()), truth, atol=0.5, rtol=0)
