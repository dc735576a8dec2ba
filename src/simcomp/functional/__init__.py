"""Pure batched kernels on plain tensors: no randomness (every choice is an argument).

Every transform in :mod:`simcomp.transforms` is a few lines over these; call them directly on
your own tensors. Shapes are in each docstring; all run on the CPU and CUDA alike. Files mirror
:mod:`simcomp.transforms` (composite, occlusion, visibility, crop) plus SLIC and connectivity.
"""

from .composite import hard_composite, place_person
from .connectivity import connected_and_merged, connected_components, merge_small_components
from .crop import crop_boxes, hmr_boxes, paired_crops, to_box_coords
from .inputs import assemble_inputs, flow_channels, keypoint_heatmaps, mark_occluded
from .occlusion import choose_supervoxel, occlusion_kept, slic_features
from .slic import slic_compensated, slic_seeds, slic_skimage, slic_video
from .visibility import (
    in_frame,
    occlude_sparse_frames,
    occlusion_run,
    randomize_visibility,
    sample_at_joints,
    visibility_rules,
)

__all__ = [
    "assemble_inputs",
    "choose_supervoxel",
    "connected_and_merged",
    "connected_components",
    "crop_boxes",
    "flow_channels",
    "hard_composite",
    "hmr_boxes",
    "in_frame",
    "keypoint_heatmaps",
    "mark_occluded",
    "merge_small_components",
    "occlude_sparse_frames",
    "occlusion_kept",
    "occlusion_run",
    "paired_crops",
    "place_person",
    "randomize_visibility",
    "sample_at_joints",
    "slic_compensated",
    "slic_features",
    "slic_seeds",
    "slic_skimage",
    "slic_video",
    "to_box_coords",
    "visibility_rules",
]
