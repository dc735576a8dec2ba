"""simcomp on your own tensors: a person video, its mask, COCO-17 keypoints, a background video.

    python examples/own_data.py          # writes own_data.png; CI runs it

No depth, no SMPL joints, no camera motion: the composite does without depth (it only serves
R17's behind-the-body test), the transforms take the keypoints' layout, and the occlusion
estimates the background's camera motion itself.
"""

import sys

import torch

from simcomp import Clip
from simcomp.joints import COCO17
from simcomp.transforms import (
    CameraTrackedComposite,
    Compose,
    KeypointVisibility,
    SuperpixelOcclusion,
)
from simcomp.viz import contact_sheet, what_happened


def your_tensors(b=2, t=8, h=96, w=128):
    """Stand-ins for your data: any float video in [0, 1], a bool mask, pixel keypoints."""
    g = torch.Generator().manual_seed(0)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    person = ((xx - w / 2).abs() < 10) & ((yy - h / 2).abs() < 30)  # a standing box
    video = torch.tensor([0.9, 0.5, 0.1]).view(1, 1, 3, 1, 1).expand(b, t, 3, h, w).clone()
    mask = person.expand(b, t, h, w).clone()
    keypoints = torch.stack(  # 17 COCO joints spread over the box, (B, T, 17, 2)
        (w / 2 + torch.linspace(-8, 8, 17), h / 2 + torch.linspace(-28, 28, 17)), -1
    ).expand(b, t, 17, 2)
    wide = torch.nn.functional.avg_pool2d(torch.rand(b, 3, h, w + 2 * t, generator=g), 5, 1, 2)
    background = torch.stack([wide[..., 2 * i : 2 * i + w] for i in range(t)], 1)  # a 2 px pan
    return video, mask, keypoints, background


def main() -> Clip:
    video, mask, keypoints, background = your_tensors()
    clip = Clip(person_rgb=video, person_mask=mask, joints_2d=keypoints, background=background)
    augment = Compose([
        CameraTrackedComposite(),
        SuperpixelOcclusion(layout=COCO17, n_segments=(4, 8)),
        KeypointVisibility(layout=COCO17),
    ])  # fmt: skip
    out = augment(clip, torch.Generator().manual_seed(5))
    fields = out.as_dict()  # back to plain tensors: frames, visible, occluder, ...
    print({k: tuple(v.shape) for k, v in fields.items() if k in ("frames", "visible", "occluder")})
    print(what_happened(out, 0))
    contact_sheet(out, 0, sys.argv[1] if len(sys.argv) > 1 else "own_data.png", max_frames=4)
    return out


if __name__ == "__main__":
    main()
