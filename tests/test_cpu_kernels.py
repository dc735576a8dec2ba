"""The numba kernels of SLIC's k-means and of the connectivity passes match the torch steps."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import simcomp.cpu_kernels as cpu_kernels
from simcomp.data.synthetic import background_clips
from simcomp.functional.connectivity import connected_and_merged
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import (
    _CompensatedFeatures,
    _Features,
    slic_compensated,
    slic_seeds,
    slic_video,
)
from tests.helpers import gen, slic_over_the_schedule, torch_path
from tests.helpers import threads as using_threads

pytestmark = pytest.mark.skipif(
    not cpu_kernels.available(torch.zeros(1)), reason="numba is not installed"
)


@pytest.mark.parametrize("compensated", [False, True], ids=["features", "compensated"])
@pytest.mark.parametrize("size", [(96, 128), (94, 126)])
def test_kernels_match_the_torch_path_over_the_schedule(size, compensated):
    # SPEC R6: the first iteration on the pixels, eight on every second pixel (the last sample
    # cut to the edge at 94 x 126), the last on all the pixels; either source
    ours, ref = (slic_over_the_schedule(size, compensated, kernels) for kernels in (True, False))
    assert ours.dtype == ref.dtype == torch.long and ours.shape == ref.shape == (2, 9, *size)
    # the kernel sums in fixed point, torch in floats: a near tie can fall the other way, and
    # the centres then move a little differently (99.85% of the voxels agree at 94 x 126)
    assert (ours == ref).float().mean() > 0.995


def _grid(pooled, shape):
    """Features (1, N, C) in (t, y, x) order as the k-means kernel reads them (no rescale)."""
    source = _Features(pooled.view(1, *shape, pooled.shape[-1]))
    return cpu_kernels.planar(source, torch.zeros(1), torch.ones(1), 1)[1]


@pytest.mark.parametrize("s", [1, 2, 3])
def test_planar_is_the_torch_rescale(s):  # SPEC R7: scikit-image's rescale, laid out by rows
    # (and SPEC R6: the sampled iterations' pixels)
    g = gen(8)
    pixels = torch.rand(2, 3 * 5 * 7, 4, generator=g) * 9 - 3
    lo, scale = torch.tensor([-3.0, 0.5]), torch.tensor([100.0, 7.0])
    out = cpu_kernels.planar(_Features(pixels.view(2, 3, 5, 7, 4)), lo, scale, s)
    ref = (pixels - lo.view(2, 1, 1)) * scale.view(2, 1, 1)
    assert out[1].shape == (2, 3, 5, 4, 7) and out[1].is_contiguous()
    assert torch.equal(out[1].transpose(3, 4).reshape(2, -1, 4), ref)
    # the s x s cells' middle pixels, the last cut to the edge (5 x 7 is cut at 2 and 3)
    frames = ref.view(2, 3, 5, 7, 4)
    ys = {1: [0, 1, 2, 3, 4], 2: [1, 3, 4], 3: [1, 4]}[s]
    xs = {1: list(range(7)), 2: [1, 3, 5, 6], 3: [1, 4, 6]}[s]
    assert torch.equal(out[s], frames[:, :, ys][:, :, :, xs].transpose(3, 4))


@pytest.mark.parametrize("s", [1, 3])
def test_planar_makes_r7_features_as_slic_features_does(s):  # SPEC R7
    # From the colour planes and the shifts, with no (B, T, H, W, 5) features: the same floats
    clip = background_clips(2, 4, (30, 44), generator=gen(6), max_pan=6.0)
    k = torch.tensor([5e-4, 2e-3])
    fused = _CompensatedFeatures(clip.background, clip.camera_shift, k)
    plain = _Features(slic_features(clip.background, clip.camera_shift, k))
    scale = 1 / ((fused.hi - fused.lo) * 0.01)
    ours = cpu_kernels.planar(fused, fused.lo, scale, s)
    ref = cpu_kernels.planar(plain, plain.lo, scale, s)
    assert ours.keys() == ref.keys()
    for key in ours:
        assert torch.equal(ours[key], ref[key])


@settings(max_examples=20, deadline=None)
@given(
    h=st.integers(1, 30),
    w=st.integers(1, 40),
    t=st.integers(1, 4),
    channels=st.integers(1, 6),
    n=st.integers(1, 12),
    seed=st.integers(0, 2**16),
)
def test_kmeans_kernel_on_any_shape_and_channels(h, w, t, channels, n, seed):
    # SPEC R6: one row or column, one frame, one segment, few or many channels
    from simcomp.functional.slic import _assign, _windows

    g = gen(seed)
    pooled = torch.rand(1, t * h * w, channels, generator=g) * 50
    axes = (torch.arange(t).float(), torch.arange(h).float(), torch.arange(w).float())
    seeds, valid, step = slic_seeds((t, h, w), [n])
    start = torch.cat((torch.rand(1, seeds.shape[1], channels, generator=g) * 50, seeds), -1)
    windows = _windows((t, h, w), valid)
    grid = _grid(pooled, (t, h, w))
    labels, _ = cpu_kernels.slic_kmeans(grid, start, valid, axes, step, windows, 1)
    ref = _assign(pooled, axes, start, step, valid, windows)
    assert labels.shape == ref.shape
    assert (labels.long() == ref).float().mean() > 0.99


def test_slic_video_with_and_without_the_kernel():  # SPEC R6
    """One labelling run after run; against the torch step, near ties can move a few pixels."""
    clip = background_clips(2, 9, (96, 128), generator=gen(5), max_pan=5.0)
    feats = slic_features(clip.background, clip.camera_shift, torch.tensor([5e-4, 1e-3]))
    seeds, valid, step = slic_seeds((9, 96, 128), [12, 20])
    a = slic_video(feats, seeds, valid, step)
    assert torch.equal(slic_video(feats, seeds, valid, step), a)
    b = slic_video(feats, seeds, valid, step, kernels=False)
    assert (a == b).float().mean() > 0.99


@pytest.mark.parametrize("downsample", [1, 4])
@pytest.mark.parametrize("kernels", [True, False])
def test_labels_without_connectivity_are_long(downsample, kernels):  # SPEC R6: the contract
    # a batch's clips write their parts of one long tensor: each as the clip alone gets
    feats = torch.rand(2, 3, 48, 64, 3, generator=gen(2))
    seeds, valid, step = slic_seeds((3, 48, 64), [6, 8])
    options = dict(downsample=downsample, enforce_connectivity=False, kernels=kernels)
    labels = slic_video(feats, seeds, valid, step, **options)
    assert labels.dtype == torch.long and labels.shape == (2, 3, 48, 64)
    assert 0 <= int(labels.min()) and int(labels.max()) < seeds.shape[1]
    for i in range(2):
        c = slice(i, i + 1)
        assert torch.equal(labels[c], slic_video(feats[c], seeds[c], valid[c], step[c], **options))


def test_without_numba_the_torch_step_runs(monkeypatch):
    monkeypatch.setattr(cpu_kernels, "_kernels", lambda: None)
    assert not cpu_kernels.available(torch.zeros(1))

    def refuse(*args):
        raise AssertionError("the kernel ran without numba")

    monkeypatch.setattr(cpu_kernels, "slic_kmeans", refuse)
    feats = torch.rand(1, 3, 48, 64, 3, generator=gen(1))
    seeds, valid, step = slic_seeds((3, 48, 64), [6])
    plain = slic_video(feats, seeds, valid, step, downsample=4)
    assert torch.equal(plain, slic_video(feats, seeds, valid, step, downsample=4, kernels=False))


@pytest.mark.parametrize("n", [8, 20])
def test_kmeans_kernel_matches_the_torch_steps(n):  # SPEC R6, SPEC R8: k-means on the grid
    from simcomp.functional.slic import _assign, _means, _windows

    g = gen(4)
    t, ny, nx = 5, 12, 16
    pooled = torch.rand(1, t * ny * nx, 5, generator=g) * 30
    axes = (torch.arange(t).float(), torch.arange(ny) * 4 + 1.5, torch.arange(nx) * 4 + 1.5)
    seeds, valid, step = slic_seeds((t, ny * 4, nx * 4), [n])
    start = torch.cat((torch.rand(1, seeds.shape[1], 5, generator=g) * 30, seeds), -1)
    windows = _windows((t, ny * 4, nx * 4), valid)
    grid = _grid(pooled, (t, ny, nx))
    labels, centres = cpu_kernels.slic_kmeans(grid, start, valid, axes, step, windows, 1)
    ref = _assign(pooled, axes, start, step, valid, windows)
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(1, -1, 3)
    ref_centres = _means(torch.cat((pooled, coords), -1), ref, start.shape[1], start)
    assert labels.shape == ref.shape and labels.dtype == torch.int32
    assert (labels == ref).float().mean() > 0.999
    torch.testing.assert_close(centres, ref_centres, rtol=1e-4, atol=1e-3)
    # no iteration: the labels stay 0 and the centres where they started
    none, kept = cpu_kernels.slic_kmeans(grid, start, valid, axes, step, windows, 0)
    assert not none.any() and torch.equal(kept, start)
    # no update after the last: the labels of one iteration, the centres as they started
    same, kept = cpu_kernels.slic_kmeans(grid, start, valid, axes, step, windows, 1, update=False)
    assert torch.equal(same, labels) and torch.equal(kept, start)


def test_kmeans_kernel_moves_only_changed_voxels_exactly():  # SPEC R6: 10 iterations
    """After the first iteration only relabelled voxels move their sums: the same centres and
    labels as iterations run one call at a time (each taking its sums whole), on 1-3 threads."""
    from simcomp.functional.slic import _windows

    g = gen(7)
    t, ny, nx = 6, 20, 28
    pooled = torch.rand(1, t * ny * nx, 5, generator=g) * 40
    axes = (torch.arange(t).float(), torch.arange(ny).float(), torch.arange(nx).float())
    seeds, valid, step = slic_seeds((t, ny, nx), [12])
    start = torch.cat((torch.zeros(1, seeds.shape[1], 5), seeds), -1)
    windows = _windows((t, ny, nx), valid)
    grid = _grid(pooled, (t, ny, nx))
    one_by_one = start
    for _ in range(6):
        labels, one_by_one = cpu_kernels.slic_kmeans(
            grid, one_by_one, valid, axes, step, windows, 1
        )
    for n in (1, 3):
        with using_threads(n):
            together = cpu_kernels.slic_kmeans(grid, start, valid, axes, step, windows, 6)
        assert torch.equal(together[0], labels) and torch.equal(together[1], one_by_one)


def test_the_assignment_by_position_is_kept_and_summed_alike():  # SPEC R6: SLIC's start
    """From centres with no features the first assignment is by position alone: kept as runs
    per seeds and grid, it gives another clip's labels and centres as making it anew would."""
    from simcomp.functional.slic import _windows

    g = gen(9)
    t, ny, nx = 4, 18, 26
    axes = (torch.arange(t).float(), torch.arange(ny).float(), torch.arange(nx).float())
    seeds, valid, step = slic_seeds((t, ny, nx), [9])
    start = torch.cat((torch.zeros(1, seeds.shape[1], 5), seeds), -1)
    windows = _windows((t, ny, nx), valid)
    clips = [_grid(torch.rand(1, t * ny * nx, 5, generator=g) * 40, (t, ny, nx)) for _ in "ab"]

    def run(grid, iterations, update=True, threads=1):
        with using_threads(threads):
            args = (grid, start, valid, axes, step, windows, iterations, update)
            return cpu_kernels.slic_kmeans(*args)

    kept = cpu_kernels._BY_POSITION.items
    for iterations, update in ((1, True), (1, False), (3, True)):
        kept.clear()
        anew = run(clips[1], iterations, update)  # made by position (and kept)
        assert len(kept) == 1
        kept.clear()
        run(clips[0], 1)  # another clip with these seeds: kept
        for threads in (1, 3):
            again = run(clips[1], iterations, update, threads)  # from what was kept
            assert torch.equal(again[0], anew[0]) and torch.equal(again[1], anew[1])
    # other seeds or another grid are another assignment
    run(clips[0], 1, threads=1)
    moved = start.clone()
    moved[0, 0, -1] += 1
    cpu_kernels.slic_kmeans(clips[0], moved, valid, axes, step, windows, 1)
    assert len(kept) == 2


def test_labels_do_not_depend_on_the_thread_count():  # one seed, one labelling (fixed point)
    clip = background_clips(1, 9, (96, 128), generator=gen(6), max_pan=5.0)
    seeds, valid, step = slic_seeds((9, 96, 128), [20])
    k = torch.tensor([5e-4])
    runs = []
    for n in (1, 3):
        with using_threads(n):
            runs.append(slic_compensated(clip.background, clip.camera_shift, k, seeds, valid, step))
    assert torch.equal(runs[0], runs[1])


def test_kernels_compile_without_a_cache(monkeypatch):
    # where numba finds no writable place for its cache, the kernels compile uncached
    import numba

    real = numba.njit

    def refusing(*args, cache=False, **kwargs):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", refusing)
    cpu_kernels._kernels.cache_clear()
    try:
        kernels = cpu_kernels._kernels()
        assert kernels is not None
        lab = torch.tensor([[[1, 1, 2, 2, 2]]], dtype=torch.int32).numpy()
        first, start, value = kernels.row_runs(lab)
        assert (first.tolist(), start.tolist(), value.tolist()) == ([0, 2], [0, 2], [1, 2])
        labels = torch.from_numpy(lab)[None]
        merged = cpu_kernels.connected_and_merged(labels, torch.tensor([3.0]), 1.0)
        assert merged.tolist() == [[[[0, 0, 0, 0, 0]]]]  # the 2-pixel run joins
    finally:
        cpu_kernels._kernels.cache_clear()


@settings(max_examples=25, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 12), st.integers(1, 12)),
    scale=st.floats(0.5, 2.0),
    with_depth=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_place_kernel_equals_the_torch_resampling(shape, scale, with_depth, seed):
    # SPEC R3, SPEC R5: nearest neighbour, the same source pixel for every output pixel
    from simcomp.functional import composite

    b, t, h, w = shape
    g = gen(seed)
    rgb = torch.rand(b, t, 3, h, w, generator=g)
    mask = torch.rand(b, t, h, w, generator=g) > 0.3
    depth = torch.rand(b, t, h, w, generator=g) + 1 if with_depth else None
    shift = (torch.rand(b, t, 2, generator=g) - 0.5) * 2 * max(h, w)
    scales = torch.full((b,), scale) * (1 + torch.rand(b, generator=g) * 0.1)
    center = torch.rand(b, 2, generator=g) * torch.tensor([w, h])
    ours = cpu_kernels.place_pixels(rgb, mask, depth, shift, scales, center)
    with torch_path():
        ref = composite._moved_pixels(rgb, mask, depth, shift, scales, center)
    for a, r in zip(ours, ref, strict=True):
        assert (a is None and r is None) or torch.equal(a, r)


def test_a_batch_leaves_the_thread_count_as_it_was():
    # clips run on worker threads of one intra-op thread each; the caller's count stays
    threads = torch.get_num_threads()
    feats = torch.rand(3, 3, 48, 64, 3, generator=gen(2))
    seeds, valid, step = slic_seeds((3, 48, 64), [6, 8, 5])
    batch = slic_video(feats, seeds, valid, step, downsample=4)
    assert torch.get_num_threads() == threads
    for i in range(3):  # each clip alone: the same labels
        c = slice(i, i + 1)
        assert torch.equal(
            batch[c], slic_video(feats[c], seeds[c], valid[c], step[c], downsample=4)
        )


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 12), st.integers(1, 12)),
    values=st.integers(1, 5),
    factor=st.floats(0.0, 3.0),
    seed=st.integers(0, 2**16),
)
def test_runs_kernel_equals_cc3d_and_the_torch_merge(shape, values, factor, seed):
    # SPEC R8: components and merge on runs of pixels: the same labels as cc3d + torch
    from simcomp.functional import connectivity

    g = gen(seed)
    labels = torch.randint(0, values, shape, generator=g)
    min_size = torch.rand(shape[0], generator=g) * factor * labels[0].numel() / 4
    ours = connectivity.connected_and_merged(labels, min_size, 2.0)
    with torch_path():
        ref = connectivity.connected_and_merged(labels, min_size, 2.0)
    assert ours.dtype == torch.long and torch.equal(ours, ref)


def test_runs_kernel_on_a_serpentine():  # SPEC R8: one region winding through every row
    from simcomp.functional import connectivity

    lab = torch.zeros(1, 2, 9, 11, dtype=torch.long)
    lab[:, :, 1::2, :] = 1
    lab[:, :, 1::4, -1] = 0  # joins rows of 0 at alternate ends
    lab[:, :, 3::4, 0] = 0
    ours = connectivity.connected_and_merged(lab, torch.tensor([0.0]))
    assert int(ours.max()) + 1 == len(torch.unique(connectivity.connected_components(lab)))
    assert torch.equal(ours, connectivity.connected_components(lab))


@settings(max_examples=40, deadline=None)
@given(
    t=st.integers(1, 6),
    h=st.integers(1, 10),
    w=st.integers(1, 10),
    values=st.integers(1, 4),
    min_size=st.integers(1, 8),
    threads=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_merge_kernel_equals_the_torch_path_on_any_split_of_the_frames(
    t, h, w, values, min_size, threads, seed
):
    # SPEC R8: at batch 1 the kernel unites and offers in runs of frames side by side
    labels = torch.randint(0, values, (1, t, h, w), generator=gen(seed))
    size = torch.tensor([float(min_size)])
    with using_threads(threads):
        ours = connected_and_merged(labels, size)
    with torch_path():
        assert torch.equal(ours, connected_and_merged(labels, size))


@pytest.mark.parametrize("blocks", [0, 1, 2])
def test_merge_kernel_on_speckle_around_few_large_regions(blocks):
    # SPEC R8: with at most one region of min_size, every small piece's chain ends at it
    # (or at the first region, which joins it): the kernel gives one region without
    # choosing neighbours; with two, the choice matters. Both as the torch path.
    labels = torch.randint(0, 6, (1, 4, 16, 16), generator=gen(7))
    for i in range(blocks):  # 4 x 8 x 8 blocks of their own labels
        labels[:, :, 8 * i : 8 * i + 8, 4:12] = 10 + i
    size = torch.tensor([100.0])  # more than any speckle piece, less than a block
    ours = connected_and_merged(labels, size)
    with torch_path():
        assert torch.equal(ours, connected_and_merged(labels, size))
    assert (int(ours.max()) == 0) == (blocks < 2)


@pytest.mark.parametrize("kernels", [True, False])
def test_no_kmeans_iteration_leaves_every_label_zero(kernels):  # SPEC R6: max_iter=0
    feats = torch.rand(2, 3, 24, 32, 3, generator=gen(4))
    seeds, valid, step = slic_seeds((3, 24, 32), [4, 6])
    labels = slic_video(feats, seeds, valid, step, max_iter=0, enforce_connectivity=False,
                        kernels=kernels)  # fmt: skip
    assert labels.dtype == torch.long and torch.equal(labels, torch.zeros_like(labels))
