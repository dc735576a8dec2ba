"""Exact 6-connected components of labelled clips, and the merge of small pieces (R6).

Both work on label volumes (B, T, H, W) and number the regions of each clip 0, 1, 2, ... in
the raster order (t, y, x) of their first voxels: compact, canonical ids that depend neither on
the device, the algorithm nor thread scheduling, so the CPU and CUDA paths give equal tensors.

- CPU: ``cc3d.connected_components`` (connected-components-3d, C++) labels the whole batch in
  one call, the clips stacked along time with their label values offset so that no region
  crosses from one clip into the next. :func:`connected_and_merged` (what SLIC calls) runs
  instead on runs of one label along x, with numba
  (:func:`simcomp.cpu_kernels.connected_and_merged`: the same labels, tested equal).
- CUDA: a union-find kernel (:mod:`simcomp.cuda`, after Playne & Hawick 2018): every voxel
  unites with its same-label neighbours behind it by ``atomicMin`` on tree roots, then every
  voxel finds its root. A root is always the smallest index of its tree, whatever order the
  threads ran in; a scan over the roots then numbers them. Without CuPy the labels go through
  the CPU path (one device-to-host copy and a host sync).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from .. import cpu_kernels
from .. import cuda as cuda_kernels
from .._checks import check_tensor


def connected_components(labels: torch.Tensor) -> torch.Tensor:
    """The exact 6-connected components of each label value, per clip.

    Two voxels share an id exactly when a path of face-adjacent voxels of their label joins
    them inside their clip: the partition ``scipy.ndimage.label`` gives when run on each label
    value of each clip, for any labelling (spirals and serpentines included).

    Args:
        labels: (B, T, H, W) integer labels (any values).

    Returns:
        long (B, T, H, W): each voxel's component, numbered per clip from 0 in the raster
        order of the components' first voxels.

    Example:
        >>> labels = torch.tensor([[[[1, 0, 1], [1, 0, 0]]]])
        >>> connected_components(labels)
        tensor([[[[0, 1, 2],
                  [0, 1, 1]]]])
    """
    check_tensor("labels", labels, ("B", "T", "H", "W"), dtype="int")
    if labels.numel() == 0:
        return torch.zeros(labels.shape, dtype=torch.long, device=labels.device)
    regions, per_clip = _regions(labels)
    return regions - (_first_ids(per_clip) + 1).view(-1, 1, 1, 1)


def connected_and_merged(
    labels: torch.Tensor, min_size: torch.Tensor, weight: float = 1.0
) -> torch.Tensor:
    """``merge_small_components(connected_components(labels), ...)`` without renumbering twice.

    Shape:
        labels (B, T, H, W) integers, min_size (B,) -> long (B, T, H, W).

    Example:
        >>> labels = torch.tensor([[[[0, 0, 0, 1, 0, 0]]]])
        >>> connected_and_merged(labels, torch.tensor([2.0]))
        tensor([[[[0, 0, 0, 0, 1, 1]]]])
    """
    check_tensor("labels", labels, ("B", "T", "H", "W"), dtype="int")
    check_tensor("min_size", min_size, (labels.shape[0],), dtype="float")
    if labels.numel() == 0:
        return torch.zeros(labels.shape, dtype=torch.long, device=labels.device)
    return _connected_and_merged(labels, min_size, weight)


def _connected_and_merged(
    labels: torch.Tensor, min_size: torch.Tensor, weight: float = 1.0, span: int | None = None
) -> torch.Tensor:
    """:func:`connected_and_merged` of checked, non-empty labels (SLIC's, inside ``_slic``).

    ``span``: every label lies in [0, span), which spares the CPU a pass to find the labels'
    range. Not checked (that would be the pass), hence not public.
    """
    if cpu_kernels.available(labels):  # on runs of pixels: the same labels, fewer passes
        return cpu_kernels.connected_and_merged(labels, min_size, weight)
    return _merge_regions(*_regions(labels, span), min_size, weight)


def _regions(labels: torch.Tensor, span: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Components numbered across the batch from 1 in raster order, and how many each clip has.

    Ids start at 1 (0 is never used), as cc3d gives them: a pass fewer on the CPU.

    Returns:
        regions int32 or long (B, T, H, W) (clip i's ids follow clip i - 1's; int32 from the
        CPU path where they fit), per_clip long (B,).
    """
    b, n = labels.shape[0], labels[0].numel()
    if labels.is_cuda and cuda_kernels.available(labels):
        roots = cuda_kernels.union_find_roots(labels).view(-1)  # global first-voxel indices
        rank = (roots == torch.arange(len(roots), device=labels.device)).cumsum(0)
        regions = rank.index_select(0, roots).view(labels.shape)
        total = rank[-1:]
    else:
        if labels.is_cuda:
            _warn_host_copy()
        regions, count = _components_cpu(labels.cpu(), span)
        regions = regions.to(labels.device)
        total = torch.tensor([count], device=labels.device)
    firsts = regions.view(b, n)[:, 0].long()
    return regions, torch.diff(firsts, append=total + 1)


def _first_ids(per_clip: torch.Tensor) -> torch.Tensor:
    """The batch-wide id of each clip's region 0, from the regions per clip (B,)."""
    return per_clip.cumsum(0) - per_clip


def _warn_host_copy() -> None:
    warnings.warn(
        "simcomp: connected components of CUDA labels run on the CPU without CuPy (a copy "
        "and a host sync per call); install simcomp[cuda] for the union-find kernel.",
        RuntimeWarning,
        stacklevel=3,
    )


def _components_cpu(labels: torch.Tensor, span: int | None = None) -> tuple[torch.Tensor, int]:
    """cc3d on the batch as one volume (B*T, H, W): ids across the batch from 1, and their count.

    cc3d numbers components from 1 in the raster order of their first voxels (checked by the
    tests against scipy), so clip i's ids follow clip i - 1's. ``span``: labels lie in
    [0, span) (else their range is measured).
    """
    import cc3d

    b, t, h, w = labels.shape
    lab = labels.reshape(b, -1)
    if span is None:
        low, high = lab.aminmax(dim=1)
        span = int((high - low).max()) + 1
    else:
        low = torch.zeros(b, dtype=torch.long)
    # Offsetting clip i's values by i * span keeps regions inside their clip; +1 as cc3d
    # treats 0 as background.
    offset = torch.arange(b) * span + 1 - low
    dtype = torch.int32 if b * span < 2**31 else torch.int64
    # in one dtype: an add that mixes int32 and int64 took 5x as long
    offset = offset.to(dtype).view(b, 1)
    vol = torch.add(lab, offset) if lab.dtype == dtype else lab.to(dtype).add_(offset)
    # int32 ids where they fit: half the traffic of int64 in every later pass over the voxels
    wide = labels.numel() >= 2**31
    comp, count = cc3d.connected_components(
        vol.numpy().reshape(b * t, h, w),
        connectivity=6,
        out_dtype=np.uint64 if wide else np.uint32,
        return_N=True,
    )
    return torch.from_numpy(comp.view(np.int64 if wide else np.int32)).view(b, t, h, w), int(count)


def merge_small_components(
    comp: torch.Tensor, min_size: torch.Tensor, weight: float = 1.0
) -> torch.Tensor:
    """Merge every region smaller than ``min_size`` into a neighbour, exactly and deterministically.

    Rounds of one rule until no small region has a neighbour: a small region joins the
    neighbour that is largest by (size, id); of two small regions that are each other's
    largest neighbour, the smaller joins the larger. Those choices form a forest (no cycle can
    pass through more than two regions, as the keys grow along every other step of a path),
    whose trees become the next round's regions. Each round every small region that has a
    neighbour merges with at least one other, so rounds are few (one or two on SLIC labels).
    Unions of adjacent connected regions stay connected, so afterwards every region is one
    6-connected region of at least ``min_size`` pixels, unless it has no neighbour at all
    (a clip smaller than ``min_size``).

    The rounds run on the graph of adjacent regions (its edges found once, in one pass over
    the voxels); on CUDA that costs a few host syncs per call, for the graph's sizes and the
    stopping test.

    Args:
        comp: (B, T, H, W) regions from :func:`connected_components` (numbered per clip from
            0 in raster order, one connected region per id).
        min_size: (B,) the smallest kept size per clip, in pixels.
        weight: pixels each voxel stands for (the pooling factor squared on a pooled grid).

    Returns:
        long (B, T, H, W): the merged regions, numbered per clip from 0 in raster order.

    Example:
        >>> comp = connected_components(torch.tensor([[[[0, 0, 0, 1, 0, 0]]]]))
        >>> comp, merge_small_components(comp, torch.tensor([2.0]))
        (tensor([[[[0, 0, 0, 1, 2, 2]]]]), tensor([[[[0, 0, 0, 0, 1, 1]]]]))
    """
    check_tensor("comp", comp, ("B", "T", "H", "W"), dtype="int")
    check_tensor("min_size", min_size, (comp.shape[0],), dtype="float")
    b = comp.shape[0]
    if comp.numel() == 0:
        return comp.long()
    per_clip = comp.reshape(b, -1).long().amax(1) + 1  # regions per clip
    regions = comp.long() + (_first_ids(per_clip) + 1).view(b, 1, 1, 1)
    return _merge_regions(regions, per_clip, min_size, weight)


def _merge_regions(
    regions: torch.Tensor, per_clip: torch.Tensor, min_size: torch.Tensor, weight: float
) -> torch.Tensor:
    """The merge on regions numbered across the batch from 1 (see :func:`_regions`)."""
    dev = regions.device
    b = regions.shape[0]
    k = int(per_clip.sum())
    start = _first_ids(per_clip)
    size = _region_sizes(regions.view(-1), k + 1)[1:]  # region i + 1's size at i
    clip_of = torch.repeat_interleave(torch.arange(b, device=dev), per_clip, output_size=k)
    limit = min_size.to(dev).float()[clip_of] / weight  # per region, in voxels
    small = size < limit
    # Regions only grow, so a pair of regions that are both large never takes part.
    group = _merge_on_graph(size, limit, _adjacent_pairs(regions, k, small, size))
    # Renumber the surviving groups per clip, in raster order (a group's first region is its
    # smallest id, and ids already follow raster order).
    survivor = group == torch.arange(k, device=dev)
    rank = survivor.cumsum(0) - 1
    before = rank[start]  # survivors in earlier clips: a clip's region 0 always survives
    new = torch.cat((rank.new_zeros(1), rank[group] - before[clip_of]))  # by id from 1
    # index_select: on the CPU twice as fast as new[regions]
    return new.index_select(0, regions.view(-1)).view(regions.shape)


def _region_sizes(regions: torch.Tensor, k: int) -> torch.Tensor:
    """Voxels per region (K,): on CUDA a kernel whose warps add each region once."""
    if regions.is_cuda and cuda_kernels.available(regions):
        return cuda_kernels.region_sizes(regions, k)
    return torch.bincount(regions, minlength=k)


def _adjacent_pairs(
    compact: torch.Tensor, k: int, wanted: torch.Tensor, size: torch.Tensor
) -> torch.Tensor:
    """Pairs (a, b), a <= b, of regions that touch across a face, one of them ``wanted``.

    The voxels hold ids from 1 (region i as i + 1, see :func:`_regions`); pairs name regions
    from 0.

    Only the voxels of wanted regions (small pieces) are visited: each looks at its six face
    neighbours by index arithmetic (at the clip's edge, at itself). On the CPU neighbours in
    the same region are dropped and a pair may repeat (the merge does not mind; making them
    unique sorted millions of pairs on fragmented pooled labels, the merge's largest cost);
    with numba a kernel makes them in one pass (:func:`simcomp.cpu_kernels.adjacent_pairs`,
    the same pairs but fewer repeats). On CUDA, where a mask would make the host wait, they
    become (k, k), a self-pair of a region that does not exist, which the merge ignores, and
    the pairs are made unique.

    Args:
        compact: (B, T, H, W) global region ids from 1 to ``k``.
        k: the number of regions.
        wanted: (K,) bool.
        size: (K,) voxels per region (the kernel's output bound).

    Returns:
        (E, 2) long.
    """
    _, t, h, w = compact.shape
    flat = compact.reshape(-1)
    wanted = torch.cat((wanted.new_zeros(1), wanted))  # by id from 1
    if cpu_kernels.available(compact):  # one pass, no index tensors
        return cpu_kernels.adjacent_pairs(compact, wanted, int(size[wanted[1:]].sum()))
    at = wanted.index_select(0, flat).nonzero().view(-1)  # voxels of wanted regions
    axes = ((at % w, w, 1), (at // w % h, h, w), (at // (w * h) % t, t, w * h))
    steps = []
    for coord, extent, stride in axes:
        steps.append(torch.where(coord > 0, -stride, 0))
        steps.append(torch.where(coord < extent - 1, stride, 0))
    mine = flat[at][:, None].long() - 1
    other = flat[at[:, None] + torch.stack(steps, 1)].long() - 1  # (N, 6)
    span = k + 1
    keys = torch.minimum(mine, other) * span + torch.maximum(mine, other)
    touch = other != mine
    if keys.is_cuda:
        keys = torch.unique(torch.where(touch, keys, k * span + k))
    else:
        keys = keys[touch]
    return torch.stack((keys // span, keys % span), 1)


def _merge_on_graph(size: torch.Tensor, limit: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """The rounds of :func:`merge_small_components` on a region graph.

    Args:
        size: (K,) voxels per region (regions in the order of their smallest index).
        limit: (K,) the smallest kept size of each region's clip, in voxels.
        edges: (E, 2) adjacent region pairs; pairs of one region, or naming region K, are
            ignored.

    Returns:
        (K,) each region's group, named by the group's first region.
    """
    if cpu_kernels.available(size):  # the same rounds, in one kernel call
        return cpu_kernels.merge_groups(size, limit, edges)
    k = len(size)
    dev = size.device
    # One spare region K (size 0: never small, never anyone's choice) for the ignored pairs.
    size = torch.cat((size, size.new_zeros(1)))
    limit = torch.cat((limit, limit.new_zeros(1)))
    idx = torch.arange(k + 1, device=dev)
    group = idx.clone()  # region -> its current group (a region index)
    a, c = edges[:, 0], edges[:, 1]
    jumps = max(1, (k + 1).bit_length())  # pointer jumping: enough for any tree depth
    while True:
        key = size * (k + 1) + idx  # a total order: size, then index
        other = a != c
        best = torch.full_like(idx, -1)
        best.scatter_reduce_(0, a, torch.where(other, key[c], -1), "amax")
        best.scatter_reduce_(0, c, torch.where(other, key[a], -1), "amax")
        point = (size < limit) & (size > 0) & (best >= 0)
        if not bool(point.any()):  # the one host sync of a round
            return group[:k]
        target = torch.where(point, best % (k + 1), idx)
        # Of two small regions that pick each other, the larger (by key) stays the root.
        mutual = (target[target] == idx) & point & (key > key[target])
        target = torch.where(mutual, idx, target)
        for _ in range(jumps):
            target = target[target]
        # Name each tree by its first region, so ids stay canonical.
        first = torch.full_like(idx, k + 1).scatter_reduce_(0, target, idx, "amin")
        root = first[target]
        size = torch.zeros_like(size).scatter_add_(0, root, size)
        group = root[group]
        a, c = root[a], root[c]
        if not a.is_cuda:  # pairs of two kept groups never matter again: drop them
            small = size < limit
            keep = (small[a] | small[c]) & (a != c)
            a, c = a[keep], c[keep]
