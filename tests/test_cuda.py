"""The optional CuPy kernels: they compile wherever nvcc is, and match the torch path on a GPU."""

import shutil
import subprocess
from pathlib import Path

import pytest
import torch

import simcomp.cuda
from simcomp.data.synthetic import background_clips
from simcomp.functional.occlusion import slic_features
from simcomp.functional.slic import (
    _assign,
    _means,
    _windows,
    slic_seeds,
    slic_video,
)
from tests.helpers import gen, slic_over_the_schedule

KERNELS = sorted(Path(simcomp.cuda.__file__).parent.glob("*.cu"))


@pytest.mark.parametrize("source", KERNELS, ids=lambda p: p.name)
def test_kernels_compile_with_nvcc(source, tmp_path):
    nvcc = shutil.which("nvcc")
    if nvcc is None:
        pytest.skip("nvcc is not on the PATH")
    cmd = [nvcc, "-std=c++17", "--ptx", "-o", str(tmp_path / "out.ptx"), str(source)]
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _nvrtc():
    """NVRTC (what CuPy compiles with), from the CUDA wheels beside torch or the system."""
    import ctypes
    import ctypes.util

    names = [str(p) for p in Path(torch.__file__).parents[1].glob("nvidia/cu*/lib/libnvrtc.so*")]
    names += [n for n in (ctypes.util.find_library("nvrtc"),) if n]
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


@pytest.mark.parametrize("source", KERNELS, ids=lambda p: p.name)
def test_kernels_compile_with_nvrtc(source):
    """nvcc pulls in math.h and the runtime headers; NVRTC does not (INFINITY broke once)."""
    import ctypes

    lib = _nvrtc()
    if lib is None:
        pytest.skip("libnvrtc is not installed")
    prog = ctypes.c_void_p()
    code = source.read_bytes()
    assert (
        lib.nvrtcCreateProgram(ctypes.byref(prog), code, source.name.encode(), 0, None, None) == 0
    )
    opts = (ctypes.c_char_p * 2)(b"-std=c++17", b"--gpu-architecture=compute_75")
    status = lib.nvrtcCompileProgram(prog, 2, opts)
    size = ctypes.c_size_t()
    lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
    log = ctypes.create_string_buffer(size.value)
    lib.nvrtcGetProgramLog(prog, log)
    lib.nvrtcDestroyProgram(ctypes.byref(prog))
    assert status == 0, log.value.decode()


def test_not_available_on_cpu():
    assert not simcomp.cuda.available(torch.zeros(1))


def test_a_kernel_that_does_not_compile_warns_and_leaves_torch_in_charge(monkeypatch):
    def broken(name, device):
        raise RuntimeError("nvrtc: error: identifier 'INFINITY' is undefined")

    simcomp.cuda._compiles.cache_clear()
    monkeypatch.setattr(simcomp.cuda, "_module", broken)
    with pytest.warns(RuntimeWarning, match="INFINITY.*torch path"):
        assert not simcomp.cuda._compiles(0)
    simcomp.cuda._compiles.cache_clear()


def _features(device):
    clip = background_clips(2, 9, (96, 128), generator=gen(3), device=device)
    return slic_features(clip.background, clip.camera_shift, torch.full((2,), 5e-4, device=device))


@pytest.mark.gpu
def test_kernel_steps_match_torch():  # SPEC R6, SPEC R8
    if not simcomp.cuda.available(torch.zeros(1, device="cuda")):
        pytest.skip("CuPy is not installed")
    feats = _features("cuda")[..., :5].reshape(2, -1, 5)
    seeds, valid, step = slic_seeds((9, 96, 128), [12, 20])
    windows = _windows((9, 96, 128), valid).cuda()
    seeds, valid, step = seeds.cuda(), valid.cuda(), step.cuda()
    axes = (
        torch.arange(9.0, device="cuda"),
        torch.arange(96.0, device="cuda"),
        torch.arange(128.0, device="cuda"),
    )
    coords = torch.stack(torch.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    centres = torch.cat(
        (
            feats.gather(1, torch.zeros(2, seeds.shape[1], 5, dtype=torch.long, device="cuda")),
            seeds,
        ),
        -1,
    )
    ref = _assign(feats, axes, centres, step, valid, windows)
    ours = simcomp.cuda.slic_assign(feats, centres, valid, axes, step, windows)
    assert (ref == ours).float().mean() > 0.999
    k = seeds.shape[1]
    torch.testing.assert_close(
        simcomp.cuda.slic_means(feats, ref, axes, k, centres),
        _means(torch.cat((feats, coords.expand(2, -1, 3)), -1), ref, k, centres),
        rtol=1e-4,
        atol=1e-3,
    )


@pytest.mark.gpu
def test_search_windows_on_the_gpu_need_no_host_sync():  # SPEC R6
    seeds, valid, step = slic_seeds((9, 96, 128), [3, 12, 20, 40])
    ref, on_gpu = _windows((9, 96, 128), valid), valid.cuda()
    assert _syncs(lambda: _windows((9, 96, 128), on_gpu)) == 0
    assert torch.equal(_windows((9, 96, 128), on_gpu).cpu(), ref)


@pytest.mark.gpu
def test_slic_video_same_labels_with_and_without_kernels():  # SPEC R6
    """Each path gives one labelling run after run, as the centres are summed in fixed point
    (with float atomics two runs of the kernels differed on 8% of the voxels). The kernels and
    torch round the assignment's distances differently (each step alone agrees above, > 99.9%),
    and ten iterations and a merge can carry a near tie to a whole supervoxel: on this clip the
    two paths agree on 91.7% of the voxels (H100 and H200)."""
    feats = _features("cuda")
    seeds, valid, step = slic_seeds((9, 96, 128), [12, 20])
    a = slic_video(feats, seeds, valid, step, kernels=True)
    b = slic_video(feats, seeds, valid, step, kernels=False)
    assert torch.equal(slic_video(feats, seeds, valid, step, kernels=True), a)
    assert torch.equal(slic_video(feats, seeds, valid, step, kernels=False), b)
    assert (a == b).float().mean() > 0.9
    cpu = slic_video(feats.cpu(), seeds, valid, step)
    assert (cpu == b.cpu()).float().mean() > 0.95  # one code path, CPU and CUDA


@pytest.mark.gpu
@pytest.mark.parametrize("compensated", [False, True], ids=["features", "compensated"])
@pytest.mark.parametrize("size", [(96, 128), (94, 126)])
def test_kernels_match_the_torch_path_over_the_schedule(size, compensated):
    # SPEC R6: the CuPy k-means steps over SLIC's schedule (the first on the pixels, eight on
    # every second pixel, the last sample cut to the edge at 94 x 126, the last on all), from either
    # features source, against the torch path
    if not simcomp.cuda.available(torch.zeros(1, device="cuda")):
        pytest.skip("CuPy is not installed")
    ours, ref = (slic_over_the_schedule(size, compensated, kernels, "cuda")
                 for kernels in (True, False))  # fmt: skip
    assert ours.dtype == ref.dtype == torch.long and ours.shape == ref.shape == (2, 9, *size)
    agree = (ours == ref).float().mean()  # both sum in fixed point; the distances round apart
    print(f"the kernels agree with torch on {agree:.5f} of the pixels")
    assert agree > 0.995  # (a near tie moves the centres a little: as on the CPU)


def test_shared_memory_bound():
    assert simcomp.cuda.fits(60, 5)
    assert not simcomp.cuda.fits(5000, 5)


def _syncs(fn) -> int:
    """How many times ``fn`` makes the host wait for the GPU (torch's sync debug mode)."""
    import warnings

    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("warn")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return sum("synchroniz" in str(w.message) for w in caught)


@pytest.mark.gpu
def test_only_the_supervoxel_merge_makes_the_host_wait():  # no host sync inside a transform
    from simcomp.data.synthetic import SyntheticClips
    from simcomp.presets import doersch2019

    clip = SyntheticClips(1, 2, 9, (96, 128), seed=0)[0].to("cuda")
    pipe = doersch2019(crop_size=64, occlusion=False)
    pipe(clip, gen(0))  # warm-up: kernel compiles, FFT plans
    assert _syncs(lambda: pipe(clip, gen(1))) == 0
    # SLIC's exact small-piece merge counts the regions and finds the small ones' voxels on
    # the host (simcomp.functional.connectivity): a few waits per call, the only ones in the
    # preset.
    full = doersch2019(crop_size=64)
    full(clip, gen(0))
    waits = _syncs(lambda: full(clip, gen(1)))
    print(f"syncs in the preset: {waits}")
    assert 0 < waits <= 40


def _labellings():
    from tests.test_connectivity import serpentine, spiral

    yield torch.randint(0, 3, (4, 5, 17, 23), generator=gen(0))
    yield torch.randint(0, 2, (3, 1, 64, 64), generator=gen(1))
    snakes = torch.from_numpy(serpentine(61, 67))[None, None]
    yield torch.cat((snakes, torch.from_numpy(spiral(61, 67))[None, None]))
    yield torch.zeros(2, 3, 8, 8, dtype=torch.long)


@pytest.mark.gpu
def test_cuda_components_and_merge_equal_the_cpu_path():  # SPEC R8 (connectivity pass)
    if not simcomp.cuda.available(torch.zeros(1, device="cuda")):
        pytest.skip("CuPy is not installed")
    from simcomp.functional.connectivity import (
        connected_and_merged,
        connected_components,
        merge_small_components,
    )

    for labels in _labellings():
        cpu = connected_components(labels)
        assert torch.equal(connected_components(labels.cuda()).cpu(), cpu)
        assert torch.equal(connected_components(labels.int().cuda()).cpu(), cpu)  # int32 kernels
        min_size = torch.full((labels.shape[0],), 0.1 * labels[0].numel())
        merged = merge_small_components(cpu.cuda(), min_size.cuda())
        assert torch.equal(merged.cpu(), merge_small_components(cpu, min_size))
        assert torch.equal(connected_and_merged(labels.cuda(), min_size.cuda()).cpu(), merged.cpu())


@pytest.mark.gpu
def test_cuda_components_on_a_slic_sized_batch():  # SPEC R8: many voxels, many threads
    if not simcomp.cuda.available(torch.zeros(1, device="cuda")):
        pytest.skip("CuPy is not installed")
    from simcomp.functional.connectivity import connected_components

    labels = torch.randint(0, 4, (4, 31, 60, 80), generator=gen(5)).repeat_interleave(4, 2)
    labels = labels.repeat_interleave(4, 3)  # blocky, like pooled SLIC labels at full size
    cpu = connected_components(labels)
    for _ in range(3):  # thread scheduling differs run to run; the ids must not
        assert torch.equal(connected_components(labels.cuda()).cpu(), cpu)
