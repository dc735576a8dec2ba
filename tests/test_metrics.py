import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from simcomp.metrics import accel_error, mpjpe, pa_mpjpe, pck, procrustes_align, velocity_error


def reference_pa(pred, gt):
    """NumPy/SciPy reference: Umeyama with the reflection fixed (FORMATS.md), per pose."""
    out = []
    for s1, s2 in zip(pred, gt, strict=True):
        mu1, mu2 = s1.mean(0), s2.mean(0)
        x1, x2 = (s1 - mu1).T, (s2 - mu2).T
        u, _, vt = np.linalg.svd(x1 @ x2.T)
        z = np.diag([1, 1, np.sign(np.linalg.det(u @ vt))])
        r = vt.T @ z @ u.T
        s = np.trace(r @ x1 @ x2.T) / (x1**2).sum()
        aligned = (s * r @ x1).T + mu2
        out.append(np.linalg.norm(aligned - s2, axis=-1).mean())
    return np.array(out)


def test_pa_mpjpe_matches_reference(device):  # SPEC R32
    rng = np.random.default_rng(0)
    pred, gt = rng.normal(size=(20, 14, 3)), rng.normal(size=(20, 14, 3))
    ours = pa_mpjpe(torch.tensor(pred, device=device), torch.tensor(gt, device=device))
    np.testing.assert_allclose(ours.cpu().numpy(), reference_pa(pred, gt), rtol=1e-6)


def test_pa_mpjpe_against_scipy_orthogonal_procrustes():  # SPEC R32
    from scipy.linalg import orthogonal_procrustes

    rng = np.random.default_rng(1)
    gt = rng.normal(size=(14, 3))
    rot = Rotation.random(random_state=2).as_matrix()
    pred = 1.7 * gt @ rot.T + 0.3 + rng.normal(scale=0.01, size=(14, 3))
    a, b = pred - pred.mean(0), gt - gt.mean(0)
    r, sc = orthogonal_procrustes(a, b)
    scale = sc / (a**2).sum()
    expected = np.linalg.norm(scale * a @ r + gt.mean(0) - gt, axis=-1).mean()
    ours = pa_mpjpe(torch.tensor(pred)[None], torch.tensor(gt)[None])[0]
    assert abs(float(ours) - expected) < 1e-9


def test_reflection_not_rescued():  # SPEC R32
    gt = torch.tensor(np.random.default_rng(3).normal(size=(1, 14, 3)))
    mirrored = gt * torch.tensor([-1.0, 1.0, 1.0], dtype=gt.dtype)
    assert pa_mpjpe(mirrored, gt) > 0.1
    np.testing.assert_allclose(
        pa_mpjpe(mirrored, gt).numpy(), reference_pa(mirrored.numpy(), gt.numpy())
    )


def test_degenerate_poses_are_finite():
    gt = torch.randn(2, 14, 3, generator=torch.Generator().manual_seed(0))
    point = torch.zeros(2, 14, 3)
    err = pa_mpjpe(point, gt)
    assert torch.isfinite(err).all()
    torch.testing.assert_close(err, (gt - gt.mean(-2, keepdim=True)).norm(dim=-1).mean(-1))
    assert torch.isfinite(pa_mpjpe(gt, point)).all() and (pa_mpjpe(gt, point) == 0).all()


@given(
    seed=st.integers(0, 10_000),
    scale=st.floats(0.2, 5.0),
    shift=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
)
def test_invariant_to_similarity_of_prediction(seed, scale, shift):  # SPEC R32
    g = torch.Generator().manual_seed(seed)
    gt = torch.randn(14, 3, generator=g, dtype=torch.float64)
    pred = gt + 0.1 * torch.randn(14, 3, generator=g, dtype=torch.float64)
    rot = torch.tensor(Rotation.random(random_state=seed).as_matrix())
    moved = scale * pred @ rot.T + torch.tensor(shift, dtype=torch.float64)
    torch.testing.assert_close(pa_mpjpe(moved, gt), pa_mpjpe(pred, gt))
    assert float(pa_mpjpe(gt, gt)) < 1e-9


def test_units_leading_dims_and_alignment_shape():
    gt = torch.randn(2, 3, 14, 3)
    pred = gt + 0.01
    assert pa_mpjpe(pred, gt, scale=1000).shape == (2, 3)
    assert procrustes_align(pred, gt).shape == gt.shape
    torch.testing.assert_close(mpjpe(pred, gt, scale=1000), torch.zeros(2, 3), atol=1e-3, rtol=0)


def test_mpjpe_pelvis_aligned():
    gt = torch.zeros(1, 14, 3)
    pred = gt.clone()
    pred[0, 0] = torch.tensor([0.0, 0.0, 1.0])  # one joint off by 1 m, hips unchanged
    assert float(mpjpe(pred, gt)) == pytest.approx(1 / 14)
    assert float(mpjpe(pred + 5, gt)) == pytest.approx(1 / 14)  # translation removed


def test_pck_and_visibility():
    gt = torch.zeros(1, 4, 2)
    pred = torch.tensor([[[0.0, 1.0], [0.0, 3.0], [0.0, 10.0], [0.0, 0.0]]])
    assert float(pck(pred, gt, 5.0)) == 0.75
    vis = torch.tensor([[True, True, True, False]])
    assert float(pck(pred, gt, 5.0, vis)) == pytest.approx(2 / 3)


def test_accel_and_velocity_error():
    t = torch.arange(6, dtype=torch.float64)
    gt = torch.zeros(6, 2, 3, dtype=torch.float64)
    pred = gt.clone()
    pred[..., 0] = (t**2)[:, None]  # constant acceleration 2
    torch.testing.assert_close(accel_error(pred, gt), torch.full((4,), 2.0, dtype=torch.float64))
    torch.testing.assert_close(velocity_error(pred, gt), (2 * t[:-1] + 1))
    valid = torch.tensor([True, True, True, False, True, True])
    err = accel_error(pred, gt, valid)
    assert torch.isnan(err[1:4]).all() and err[0] == 2.0
    assert accel_error(gt, gt).abs().max() == 0


def test_errors():
    with pytest.raises(ValueError, match=r"pred, gt: expected equal shapes \(\.\.\., J, 3\)"):
        pa_mpjpe(torch.zeros(2, 14, 3), torch.zeros(2, 13, 3))
    with pytest.raises(TypeError, match="pred: expected dtype float"):
        mpjpe(torch.zeros(2, 14, 3, dtype=torch.long), torch.zeros(2, 14, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="at least 3 frames"):
        accel_error(torch.zeros(2, 14, 3), torch.zeros(2, 14, 3))


def test_supervoxel_quality_measures_against_references():  # SPEC R6-R8's measures
    import numpy as np
    import scipy.ndimage as ndi

    from simcomp.metrics import adjusted_rand_index, fragmented_share

    g = torch.Generator().manual_seed(0)
    lab = torch.randint(0, 3, (3, 9, 11), generator=g)
    bad = 0
    for value in range(3):
        pieces = np.bincount(ndi.label(lab.numpy() == value)[0].ravel())[1:]
        bad += pieces.sum() - pieces.max()
    assert abs(fragmented_share(lab) - bad / lab.numel()) < 1e-12
    a, b = torch.randint(0, 4, (500,), generator=g), torch.randint(0, 3, (500,), generator=g)
    assert abs(adjusted_rand_index(a, a + 7) - 1) < 1e-12
    assert abs(adjusted_rand_index(a, b)) < 0.05  # independent labellings: about 0
    # the textbook example: ARI of [0,0,1,1] vs [0,0,1,2] is 0.5714...
    ari = adjusted_rand_index(torch.tensor([0, 0, 1, 1]), torch.tensor([0, 0, 1, 2]))
    assert abs(ari - 4 / 7) < 1e-9
