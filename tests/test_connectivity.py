"""Exact connected components and the small-piece merge (SPEC R6, R8's connectivity pass)."""

import numpy as np
import pytest
import scipy.ndimage as ndi
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.segmentation._slic import _enforce_label_connectivity_cython as skimage_merge

from simcomp.functional.connectivity import connected_components, merge_small_components
from tests.helpers import gen, torch_path

FACES = ndi.generate_binary_structure(3, 1)  # 6-connectivity


def reference(labels: torch.Tensor) -> torch.Tensor:
    """scipy.ndimage.label on each label value of each clip, numbered in raster order."""
    out = torch.empty_like(labels, dtype=torch.long)
    for i, clip in enumerate(labels.numpy()):
        ids = np.empty(clip.shape, np.int64)
        for v in np.unique(clip):
            pieces, count = ndi.label(clip == v, structure=FACES)
            for k in range(1, count + 1):
                where = pieces == k
                ids[where] = np.flatnonzero(where.ravel())[0]  # its first voxel
        out[i] = torch.from_numpy(np.unique(ids, return_inverse=True)[1].reshape(ids.shape))
    return out


def spiral(h: int, w: int) -> np.ndarray:
    """A 1-pixel-wide spiral (label 1) walked inwards with 1-pixel gaps: one long region."""
    a = np.zeros((h, w), np.int64)
    y, x, d = 0, 0, 0
    steps = ((0, 1), (1, 0), (0, -1), (-1, 0))
    a[y, x] = 1

    def free(py, px):
        return 0 <= py < h and 0 <= px < w and a[py, px] == 0

    def ok(k):
        dy, dx = steps[k]
        ahead = (y + 2 * dy, x + 2 * dx)
        inside = 0 <= ahead[0] < h and 0 <= ahead[1] < w
        return free(y + dy, x + dx) and (not inside or a[ahead] == 0)

    while True:
        if not ok(d):
            d = (d + 1) % 4
            if not ok(d):
                return a
        y, x = y + steps[d][0], x + steps[d][1]
        a[y, x] = 1


def serpentine(h: int, w: int) -> np.ndarray:
    """Rows of label 1 joined alternately at the right and left ends: one snake."""
    a = np.zeros((h, w), np.int64)
    a[::2] = 1
    for r in range(1, h, 2):
        a[r, w - 1 if (r // 2) % 2 == 0 else 0] = 1
    return a


@settings(max_examples=40)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 12), st.integers(1, 12)),
    values=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_components_equal_scipy_on_random_labellings(shape, values, seed):  # SPEC R8
    labels = torch.randint(0, values, shape, generator=gen(seed)) - 2  # negative values too
    assert torch.equal(connected_components(labels), reference(labels))


@pytest.mark.parametrize(
    "kind", ["spiral", "serpentine", "checkerboard", "constant", "stripes-in-time", "mixed"]
)
def test_components_equal_scipy_on_adversarial_labellings(kind):  # SPEC R8
    h, w = 41, 53
    if kind == "spiral":
        labels = spiral(h, w)[None]
    elif kind == "serpentine":
        labels = serpentine(h, w)[None]  # one frame: the only path is the snake's length
    elif kind == "checkerboard":
        labels = np.indices((3, h, w)).sum(0) % 2
    elif kind == "constant":
        labels = np.full((3, h, w), 7)
    elif kind == "stripes-in-time":
        labels = (np.arange(3)[:, None, None] + np.zeros((1, h, w), int)) % 2
    else:
        labels = np.stack([spiral(h, w), serpentine(h, w), np.indices((h, w)).sum(0) % 3])
    batch = torch.from_numpy(np.stack([labels, labels[::-1].copy()])).long()
    if kind in ("spiral", "serpentine"):
        assert ndi.label(labels == 1, structure=FACES)[1] == 1  # the generator's promise
    comp = connected_components(batch)
    assert torch.equal(comp, reference(batch))
    if kind in ("spiral", "serpentine"):
        assert len(torch.unique(comp[0][batch[0] == 1])) == 1  # one snake, however long


def test_components_of_huge_label_values():
    labels = torch.randint(0, 3, (3, 2, 9, 11), generator=gen(3))
    spread = torch.tensor([2**40, -(2**35), 7]).view(3, 1, 1, 1)
    assert torch.equal(connected_components(labels * 2**20 + spread), reference(labels))


def test_components_keep_clips_apart_and_accept_empty_batches():
    labels = torch.zeros(3, 2, 4, 4, dtype=torch.long)  # same value everywhere, every clip
    comp = connected_components(labels)
    assert (comp == 0).all()  # each clip is its own single component, named 0
    assert connected_components(labels[:0]).shape == (0, 2, 4, 4)
    with pytest.raises(TypeError, match="labels: expected dtype int"):
        connected_components(labels.float())
    with pytest.raises(ValueError, match=r"labels: expected shape \(B, T, H, W\)"):
        connected_components(labels[0])


def _check_merged(merged: torch.Tensor, labels: torch.Tensor, min_size: torch.Tensor):
    for i in range(len(merged)):
        assert torch.equal(connected_components(merged[i : i + 1]), merged[i : i + 1])
        ids, sizes = torch.unique(merged[i], return_counts=True)
        assert sizes.min() >= min_size[i] or len(ids) == 1
        # every merged region is a union of whole input regions
        comp = connected_components(labels[i : i + 1])[0]
        pairs = torch.unique(torch.stack((comp.flatten(), merged[i].flatten())), dim=1)
        assert len(torch.unique(pairs[0])) == pairs.shape[1]


@settings(max_examples=40)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 4), st.integers(2, 14), st.integers(2, 14)),
    values=st.integers(2, 6),
    fraction=st.floats(0.01, 0.6),
    seed=st.integers(0, 2**16),
)
def test_merge_leaves_only_connected_regions_above_the_minimum(shape, values, fraction, seed):
    # SPEC R8 (connectivity pass): scikit-image's guarantee, on any labelling
    labels = torch.randint(0, values, shape, generator=gen(seed))
    n = labels[0].numel()
    min_size = torch.full((shape[0],), fraction * n)
    merged = merge_small_components(connected_components(labels), min_size)
    _check_merged(merged, labels, min_size)
    again = merge_small_components(connected_components(labels.flip(0)), min_size.flip(0))
    assert torch.equal(again, merged.flip(0))  # clips are independent of their batch


def test_merge_weight_counts_pooled_voxels_as_pixels():
    labels = torch.tensor([[[[0, 0, 1, 1, 1]]]])
    comp = connected_components(labels)
    kept = merge_small_components(comp, torch.tensor([2.0]), weight=1.0)
    assert torch.equal(kept, comp)  # 2 and 3 voxels: both >= 2
    merged = merge_small_components(comp, torch.tensor([10.0]), weight=4.0)  # 8 and 12 pixels
    assert torch.equal(merged, torch.zeros_like(comp))  # the 2-voxel piece joins the other


def test_merge_gives_a_piece_to_the_neighbour_scikit_image_meets_last():
    # SPEC R8: scikit-image's rule, not the largest neighbour: the piece c's search looks
    # +x (A), -x (B), +y (B), -y (A), so it meets A last, though B is larger
    a, b, c = 0, 1, 2
    labels = torch.tensor([[a, a, a, a], [b, c, a, a], [b, b, b, b], [b, b, b, b]])
    comp = connected_components(labels.view(1, 1, 4, 4))
    ours = merge_small_components(comp, torch.tensor([2.0]))
    expected = skimage_merge(labels.view(1, 4, 4).numpy().astype(np.intp), 2, 17, start_label=0)
    assert ours[0, 0, 1, 1] == ours[0, 0, 0, 0] != ours[0, 0, 2, 0]
    assert np.array_equal(ours[0].numpy(), expected)


@pytest.mark.parametrize("path", ["kernel", "torch"])
@settings(max_examples=60, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 4), st.integers(1, 8), st.integers(1, 8)),
    values=st.integers(1, 5),
    seed=st.integers(0, 2**16),
)
def test_merge_equals_scikit_image_on_pieces_of_up_to_two_voxels(path, shape, values, seed):
    # SPEC R8: scikit-image's _enforce_label_connectivity_cython, exactly, where its search
    # order is raster order (pieces of 1 or 2 voxels: min_size 3), a small first region included
    labels = torch.randint(0, values, shape, generator=gen(seed))
    with torch_path(path == "torch"):
        ours = merge_small_components(connected_components(labels[None]), torch.tensor([3.0]))
    expected = skimage_merge(labels.numpy().astype(np.intp), 3, labels.numel() + 1, start_label=0)
    assert np.array_equal(ours[0].numpy(), expected)


def test_a_small_first_region_joins_the_first_large_one():
    # SPEC R8: the one piece with no region before it takes, with all that joined it, the
    # label of the first region that is not small, as in scikit-image (which it touches)
    labels = torch.tensor([[[[0, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3]]]])
    merged = merge_small_components(connected_components(labels), torch.tensor([3.0]))
    assert merged.tolist() == [[[[0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]]]]
    expected = skimage_merge(labels[0].numpy().astype(np.intp), 3, 12, start_label=0)
    assert np.array_equal(merged[0].numpy(), expected)


def test_torch_merge_with_wide_ids_and_indices(monkeypatch):
    # SPEC R8: past 2**31 regions or voxels the torch merge keeps ids and indices as int64
    # (forced here by lowering the limit): the same labels as with int32
    from simcomp.functional import connectivity

    labels = torch.randint(0, 4, (2, 3, 9, 11), generator=gen(5))
    size = torch.tensor([6.0, 9.0])
    with torch_path():
        narrow = merge_small_components(connected_components(labels), size)
        monkeypatch.setattr(connectivity, "_INT32_LIMIT", 0)
        wide = merge_small_components(connected_components(labels), size)
    assert torch.equal(wide, narrow)
    assert int(narrow.amax()) < int(connected_components(labels).amax())  # pieces did merge
