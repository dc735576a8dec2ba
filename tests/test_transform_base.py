import pytest
import torch

import simcomp
from simcomp.transforms import Compose
from tests.helpers import AddNoise, Brightness, assert_clips_equal, gen, random_clip


def test_same_seed_same_output(device):
    clip = random_clip(device=device)
    t = AddNoise()
    assert_clips_equal(t(clip, gen(1)), t(clip, gen(1)))
    assert not torch.equal(t(clip, gen(1)).background, t(clip, gen(2)).background)


def test_params_recorded_and_replayed(device):
    clip = random_clip(device=device)
    t = Brightness(p=0.5)
    out = t(clip, gen(3))
    params = out.params["brightness"]
    assert set(params) == {"applied", "factor"}
    assert params["factor"].device.type == device.type
    assert_clips_equal(t(clip, params=params), out)


def test_compose_replays_whole_chain(device):
    clip = random_clip(device=device)
    chain = Compose([AddNoise(), Brightness(p=0.5)])
    out = chain(clip, gen(7))
    assert set(out.params) == {"add_noise", "brightness"}
    assert_clips_equal(chain(clip, gen(7)), out)
    assert_clips_equal(chain(clip, params=out.params), out)
    with pytest.raises(ValueError, match="no recorded params for transform 'brightness'"):
        chain(clip, params={"add_noise": out.params["add_noise"]})


def test_same_params_on_any_device(device):
    cpu = Brightness(p=0.5)(random_clip(), gen(5)).params["brightness"]
    dev = Brightness(p=0.5)(random_clip(device=device), gen(5)).params["brightness"]
    for k in cpu:
        assert torch.equal(cpu[k], dev[k].cpu())


def test_p_zero_is_exact_noop_and_p_selects_samples():
    clip = random_clip(b=64)
    out = Brightness(p=0.0)(clip, gen(0))
    assert torch.equal(out.background, clip.background)
    out = Brightness(p=0.5)(clip, gen(0))
    applied = out.params["brightness"]["applied"]
    assert 0 < applied.sum() < 64
    same = (out.background == clip.background).flatten(1).all(1)
    assert torch.equal(same, ~applied)


def test_input_not_modified():
    clip = random_clip()
    before = clip.background.clone()
    AddNoise()(clip, gen(0))
    assert torch.equal(clip.background, before)


def test_errors():
    with pytest.raises(ValueError, match=r"p: expected a value in \[0.0, 1.0\], got 1.5"):
        Brightness(p=1.5)
    with pytest.raises(ValueError, match="unique"):
        Compose([Brightness(), Brightness()])
    with pytest.raises(TypeError, match="clip: expected a simcomp.Clip, got Tensor"):
        Brightness()(torch.zeros(1))
    with pytest.raises(ValueError, match=r"Brightness needs Clip fields \['background'\]"):
        Brightness()(random_clip().replace(background=None))
    with pytest.raises(ValueError, match="params: expected params recorded by Brightness"):
        Brightness()(random_clip(), params={"factor": torch.ones(2)})


@pytest.mark.gpu
def test_cuda_generator_rejected():
    with pytest.raises(ValueError, match="generator: expected a CPU torch.Generator"):
        Brightness()(random_clip(), torch.Generator(device="cuda"))


def test_no_generator_uses_global_seed():
    clip = random_clip()
    torch.manual_seed(0)
    a = AddNoise()(clip)
    torch.manual_seed(0)
    b = AddNoise()(clip)
    assert_clips_equal(a, b)


def test_version():
    assert simcomp.__version__ == "0.1.0"


def test_a_model_holding_the_pipeline_can_init_its_weights():  # nn.Module.apply(fn) works
    from simcomp.presets import doersch2019

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.augment = doersch2019(crop_size=32)
            self.head = torch.nn.Linear(3, 2)

    seen = []
    Model().apply(lambda m: seen.append(type(m).__name__))
    assert "SuperpixelOcclusion" in seen and "Linear" in seen


def test_replay_follows_the_recorded_draw_not_the_replaying_p():
    clip = random_clip(b=6)
    out = Brightness(p=0.5)(clip, gen(7))
    applied = out.params["brightness"]["applied"]
    assert 0 < applied.sum() < 6
    again = Brightness(p=1.0)(clip, params=out.params["brightness"])  # another instance, p=1
    assert_clips_equal(again, out)


def test_deterministic_transforms_draw_nothing():
    g = gen(5)
    before = g.get_state()
    from simcomp.transforms import PersonCrop

    PersonCrop(crop_size=32)(random_clip(h=32, w=40), g)
    assert torch.equal(g.get_state(), before)


def test_augmented_batches_concatenate():
    from simcomp import Clip
    from simcomp.data.synthetic import SyntheticClips
    from simcomp.transforms import SuperpixelOcclusion
    from simcomp.transforms.composite import CameraTrackedComposite

    pipe = Compose(
        [CameraTrackedComposite(estimator=None), SuperpixelOcclusion(n_segments=(2, 30))]
    )
    inputs, parts = [], []
    for seed in (0, 1):
        clip = SyntheticClips(1, 2, 4, (48, 64), seed=seed)[0]
        inputs.append(clip.replace(camera_shift=torch.zeros(2, 4, 2)))
        parts.append(pipe(inputs[-1], gen(seed + 10)))
    k = [p.params["superpixel_occlusion"]["seeds"].shape[1] for p in parts]
    both = Clip.cat(parts)
    assert both.batch_size == 4
    seeds = both.params["superpixel_occlusion"]["seeds"]
    assert k[0] != k[1] and seeds.shape[1] == max(k)  # padded to the larger grid
    replay = pipe(Clip.cat(inputs), params=both.params)
    assert torch.equal(replay.person_mask, both.person_mask)  # the padded params replay


def test_print_shows_each_transforms_settings():
    from simcomp.presets import doersch2019

    text = str(doersch2019(crop_size=32))
    assert "SuperpixelOcclusion(n_segments=(10, 30)" in text and "crop_size=32" in text
