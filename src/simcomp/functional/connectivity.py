"""Exact 6-connected components of labelled clips, and the merge of small pieces (SPEC R6).

Both work on label volumes (B, T, H, W) and number the regions of each clip 0, 1, 2, ... in
the raster order (t, y, x) of their first voxels: compact, canonical ids that depend neither on
the device, the algorithm nor thread scheduling, so the CPU and CUDA paths give equal tensors.

- CPU: ``cc3d.connected_components`` (connected-components-3d, C++) labels the whole batch in
  one call, the clips stacked along time with their label values offset so that no region
  crosses from one clip into the next.
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
    if labels.is_cuda and cuda_kernels.available(labels):
        return cuda_kernels.connected_components(labels)
    if labels.is_cuda:
        _warn_host_copy()
    return _components_cpu(labels.cpu()).to(labels.device)


def _warn_host_copy() -> None:
    warnings.warn(
        "simcomp: connected components of CUDA labels run on the CPU without CuPy (a copy "
        "and a host sync per call); install simcomp[cuda] for the union-find kernel.",
        RuntimeWarning,
        stacklevel=3,
    )


def _components_cpu(labels: torch.Tensor) -> torch.Tensor:
    """cc3d on the batch as one volume (B*T, H, W).

    cc3d numbers components from 1 in the raster order of their first voxels (checked by the
    tests against scipy), so a clip's ids start at the id of its own first voxel.
    """
    import cc3d

    b, t, h, w = labels.shape
    n = t * h * w
    lab = labels.reshape(b, -1)
    lab = lab - lab.amin(1, keepdim=True)  # >= 0 per clip
    span = int(lab.max()) + 1
    # Offsetting clip i's values by i * span keeps regions inside their clip; +1 as cc3d
    # treats 0 as background.
    offset = torch.arange(b, dtype=torch.int64).view(b, 1) * span + 1
    vol = (lab + offset).numpy().reshape(b * t, h, w)
    vol = vol.astype(np.uint32) if b * span < 2**32 else vol.astype(np.uint64)
    comp = torch.from_numpy(cc3d.connected_components(vol, connectivity=6).astype(np.int64))
    comp = comp.view(b, n)
    return (comp - comp[:, :1]).view(b, t, h, w)


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
    """
    check_tensor("comp", comp, ("B", "T", "H", "W"), dtype="int")
    check_tensor("min_size", min_size, (comp.shape[0],), dtype="float")
    b = comp.shape[0]
    n = comp[0].numel()
    if comp.numel() == 0:
        return comp.long()
    dev = comp.device
    per_clip = comp.reshape(b, n).long().amax(1) + 1  # regions per clip
    start = per_clip.cumsum(0) - per_clip  # the first global region of each clip
    k = int(per_clip.sum())
    compact = comp.long() + start.view(b, 1, 1, 1)  # global region ids, (B, T, H, W)
    size = torch.bincount(compact.view(-1), minlength=k)
    clip_of = torch.repeat_interleave(torch.arange(b, device=dev), per_clip, output_size=k)
    limit = min_size.to(dev).float()[clip_of] / weight  # per region, in voxels
    small = size < limit
    # Regions only grow, so a pair of regions that are both large never takes part.
    group = _merge_on_graph(size, limit, _adjacent_pairs(compact, k, small))
    # Renumber the surviving groups per clip, in raster order (a group's first region is its
    # smallest id, and ids already follow raster order).
    survivor = group == torch.arange(k, device=dev)
    rank = survivor.cumsum(0) - 1
    before = rank[start]  # survivors in earlier clips: a clip's region 0 always survives
    new = rank[group] - before[clip_of]
    return new[compact]


def _adjacent_pairs(compact: torch.Tensor, k: int, wanted: torch.Tensor) -> torch.Tensor:
    """Unique pairs (a, b), a < b, of regions that touch across a face, one of them ``wanted``.

    Args:
        compact: (B, T, H, W) global region ids below ``k``.
        k: the number of regions.
        wanted: (K,) bool.

    Returns:
        (E, 2) long.
    """
    small_ids = compact.to(torch.int32) if k < 2**31 else compact
    keys = []
    for d in (1, 2, 3):
        lo = small_ids.narrow(d, 0, compact.shape[d] - 1)
        hi = small_ids.narrow(d, 1, compact.shape[d] - 1)
        ne = lo != hi
        a, c = lo[ne].long(), hi[ne].long()
        use = wanted[a] | wanted[c]
        a, c = a[use], c[use]
        keys.append(torch.minimum(a, c) * k + torch.maximum(a, c))
    keys = torch.unique(torch.cat(keys))
    return torch.stack((keys // k, keys % k), 1)


def _merge_on_graph(size: torch.Tensor, limit: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """The rounds of :func:`merge_small_components` on a region graph.

    Args:
        size: (K,) voxels per region (regions in the order of their smallest index).
        limit: (K,) the smallest kept size of each region's clip, in voxels.
        edges: (E, 2) adjacent region pairs.

    Returns:
        (K,) each region's group, named by the group's first region.
    """
    k = len(size)
    idx = torch.arange(k, device=size.device)
    group = idx.clone()  # region -> its current group (a region index)
    a, c = edges[:, 0], edges[:, 1]
    while True:
        key = size * k + idx  # a total order: size, then index; 0 for regions merged away
        best = torch.full_like(idx, -1)
        best.scatter_reduce_(0, a, key[c], "amax")
        best.scatter_reduce_(0, c, key[a], "amax")
        point = (size < limit) & (size > 0) & (best >= 0)
        if not bool(point.any()):
            return group
        target = torch.where(point, best % k, idx)
        # Of two small regions that pick each other, the larger (by key) stays the root.
        mutual = (target[target] == idx) & point & (key > key[target])
        target = torch.where(mutual, idx, target)
        while True:  # resolve the forest (depth is small; each pass halves it)
            deeper = target[target]
            if torch.equal(deeper, target):
                break
            target = deeper
        # Name each tree by its first region, so ids stay canonical.
        first = torch.full_like(idx, k).scatter_reduce_(0, target, idx, "amin")
        root = first[target]
        size = torch.zeros_like(size).scatter_add_(0, root, size)
        group = root[group]
        a, c = root[a], root[c]
        keep = a != c
        a, c = a[keep], c[keep]
