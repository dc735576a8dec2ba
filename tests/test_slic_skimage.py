"""scikit-image's own SLIC tests (tests/skimage/segmentation/test_slic.py, v0.26), adapted.

``slic_video`` takes features as given (no Lab conversion, no Gaussian smoothing), on whole
clips: a 2-D image is a one-frame clip, a 3-D volume a clip whose frames are its first axis.
The tests that apply keep their images, parameters and expected labels; labels with
connectivity enforced are numbered in the raster order of their first pixel, which is the
order scikit-image's expectations use. Not adapted, as ``slic_video`` has no such option:
``mask``, ``spacing``, ``sigma``, ``slic_zero``, ``convert2lab`` and ``max_size_factor``
(scikit-image cuts supervoxels above 3x the mean size; simcomp never cuts), and integer
images (features are floats). SPEC R6-R8: SLIC as scikit-image defines it.
"""

from itertools import product

import numpy as np
import pytest
import torch

from simcomp.functional.slic import slic_seeds, slic_video


def lab_features(img):
    """``convert2lab``'s features and the compactness that gives them its balance.

    scikit-image rescales the RGB image to [0, 1], then converts it to Lab, whose values
    span ~100 units; ``slic_video`` rescales the features it is given to [0, 1] (as
    scikit-image's ``convert2lab=False`` path), so its compactness is 10 / that span.
    """
    from skimage.color import rgb2lab

    lab = rgb2lab((img - img.min()) / (img.max() - img.min()))
    return lab, 10.0 / (lab.max() - lab.min())


def slic(img, n_segments, compactness=10.0, channel_axis=-1, enforce_connectivity=True,
         same_as_skimage=True):  # fmt: skip
    """scikit-image's call mapped onto slic_video: image (H, W[, C]) or volume (T, H, W[, C]).

    Also runs scikit-image's ``slic`` on the same features and checks that the labels are
    the same, pixel for pixel (unless ``same_as_skimage`` is False).
    """
    from skimage.segmentation import slic as skimage_slic

    ours = _slic_video(img, n_segments, compactness, channel_axis, enforce_connectivity)
    if not same_as_skimage:
        return ours
    theirs = skimage_slic(np.asarray(img, np.float64), n_segments, compactness,
                          channel_axis=channel_axis, convert2lab=False, start_label=0,
                          enforce_connectivity=enforce_connectivity)  # fmt: skip
    np.testing.assert_array_equal(ours, theirs)
    return ours


def _slic_video(img, n_segments, compactness, channel_axis, enforce_connectivity):
    img = np.asarray(img, np.float32)
    spatial = img.shape if channel_axis is None else img.shape[:-1]
    volume = spatial if len(spatial) == 3 else (1, *spatial)  # a 2-D image: one frame
    clip = torch.from_numpy(img).reshape(1, *volume, -1)
    seeds, valid, step = slic_seeds(volume, [n_segments])
    labels = slic_video(clip, seeds, valid, step, compactness,
                        enforce_connectivity=enforce_connectivity)  # fmt: skip
    return labels[0].reshape(spatial).numpy()


def quadrants(seg):
    assert len(np.unique(seg)) == 4
    assert (seg[:10, :10] == 0).all()
    assert (seg[:10, 10:] == 1).all()
    assert (seg[10:, :10] == 2).all()
    assert (seg[10:, 10:] == 3).all()


def test_color_2d():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21, 3))
    img[:10, :10, 0] = 1
    img[10:, :10, 1] = 1
    img[10:, 10:, 2] = 1
    img = np.clip(img + 0.01 * rng.normal(size=img.shape), 0, 1)
    lab, compactness = lab_features(img)
    seg = slic(lab, n_segments=4, compactness=compactness, enforce_connectivity=False)
    assert seg.shape == img.shape[:-1]
    quadrants(seg)


def test_multichannel_2d():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 20, 8))
    img[:10, :10, 0:2] = 1
    img[:10, 10:, 2:4] = 1
    img[10:, :10, 4:6] = 1
    img[10:, 10:, 6:8] = 1
    img = np.clip(img + 0.01 * rng.normal(size=img.shape), 0, 1)
    seg = slic(img, n_segments=4, enforce_connectivity=False)
    assert seg.shape == img.shape[:-1]
    quadrants(seg)


def gray_quadrants():
    """scikit-image's grey test image: four shades in quadrants, a little noise."""
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21))
    img[:10, :10] = 0.33
    img[10:, :10] = 0.67
    img[10:, 10:] = 1.00
    return np.clip(img + 0.0033 * rng.normal(size=img.shape), 0, 1)


def test_gray_2d():
    img = gray_quadrants()
    seg = slic(img, n_segments=4, compactness=1, channel_axis=None)
    assert seg.shape == img.shape
    quadrants(seg)


def test_consistency_across_feature_magnitude():
    # scikit-image rescales features by their global min and max, so their scale and offset
    # do not matter (a real photo, as one frame).
    from skimage import data

    img = data.cat()[:256, :128].astype(np.float32)  # uint8 values as floats
    seg = slic(img, 100)
    np.testing.assert_array_equal(seg, slic(img * 256, 100))  # uint16's scale: exact
    unit = slic(img / 255, 100)  # img_as_float's: equal up to float rounding
    assert (unit == seg).mean() > 0.99
    offset = slic(img / 255 + 1000, 100)  # float32 keeps ~4 digits of x + 1000
    assert (offset == unit).mean() > 0.9
    assert abs(int(seg.max()) - int(unit.max())) / seg.max() < 0.5


def _octants(shape):
    halves = [(slice(None, d // 2), slice(d // 2, None)) for d in shape]
    return list(product(*halves))


def test_color_3d():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21, 22, 3))
    slices = _octants(img.shape[:-1])
    for s, c in zip(slices, product(*(([0, 1],) * 3)), strict=True):
        img[s] = c
    img = np.clip(img + 0.01 * rng.normal(size=img.shape), 0, 1)
    lab, compactness = lab_features(img)
    seg = slic(lab, n_segments=8, compactness=compactness)
    assert len(np.unique(seg)) == 8
    for s, c in zip(slices, range(8), strict=True):
        assert (seg[s] == c).all()


def test_gray_3d():
    rng = np.random.default_rng(0)
    img = np.zeros((20, 21, 22))
    slices = _octants(img.shape)
    for s, sh in zip(slices, np.arange(0, 1.000001, 1.0 / 7), strict=True):
        img[s] = sh
    img = np.clip(img + 0.001 * rng.normal(size=img.shape), 0, 1)
    seg = slic(img, n_segments=8, compactness=1, channel_axis=None)
    assert len(np.unique(seg)) == 8
    for s, c in zip(slices, range(8), strict=True):
        assert (seg[s] == c).all()


def test_enforce_connectivity():
    img = np.array([[0, 0, 0, 1, 1, 1], [1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0]], float)
    kw = dict(compactness=0.0001, channel_axis=None)
    connected = slic(img, 2, enforce_connectivity=True, **kw)
    disconnected = slic(img, 2, enforce_connectivity=False, **kw)
    np.testing.assert_array_equal(connected, [[0, 0, 0, 1, 1, 1]] * 3)
    np.testing.assert_array_equal(
        disconnected, [[0, 0, 0, 1, 1, 1], [1, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 0]]
    )


def test_more_segments_than_pixels():
    img = gray_quadrants()
    seg = slic(img, n_segments=500, compactness=1, channel_axis=None)
    assert (seg.ravel() == np.arange(seg.size)).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
def test_dtype_support(dtype):
    img = torch.rand(1, 1, 28, 28, 1, generator=torch.Generator().manual_seed(0)).to(dtype)
    seeds, valid, step = slic_seeds((1, 28, 28), [100])
    labels = slic_video(img, seeds, valid, step)
    assert labels.shape == (1, 1, 28, 28) and labels.min() == 0


def test_start_label_and_compact_ids():
    # gh-6240: no label below the start (0 here), and (ours) ids 0..n-1 all used. The
    # k-means labels are scikit-image's; the merge of small pieces follows its rule but not
    # its queue order within one search distance (nor its cut of supervoxels over 3x the
    # mean), and here 11 of 104 pixels go the other way; every label is one connected
    # region of at least half the mean size.
    from skimage import filters

    from simcomp.metrics import fragmented_share

    rng = np.random.default_rng(9)
    img = filters.gaussian(rng.standard_normal((8, 13)) > 0, sigma=1)
    seg = slic(img, n_segments=6, compactness=0.01, channel_axis=None, same_as_skimage=False)
    assert seg.min() == 0
    assert set(np.unique(seg)) == set(range(seg.max() + 1))
    assert fragmented_share(torch.from_numpy(seg)[None]) == 0
    assert np.bincount(seg.ravel()).min() >= 0.5 * seg.size / 6


@pytest.mark.parametrize("bad", [np.nan, -np.inf, np.inf])
def test_raises_value_error_on_nan_or_inf(bad):
    img = np.zeros((4, 5), dtype=float)
    img[2, 3] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        slic(img, 10, channel_axis=None)
