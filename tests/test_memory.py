"""Memory, rooflines and parallelism (scalinglab.memory) against their sources, with properties and errors."""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from scalinglab import ScalingLabError, UnknownNameError, accelerator
from scalinglab.memory import (
    OPTIMIZERS, RECOMPUTE, TRAINING_PRECISIONS, activation_memory, decode_time, kv_cache_bytes,
    pipeline_bubble, roofline, training_memory,
)


# --- paper reproduction -----------------------------------------------------------------------------

def test_zero_section_3_1_gpt2_needs_24_gb():
    # Rajbhandari et al. 2019 (arXiv 1910.02054), section 3.1: 2 + 2 + 12 bytes per parameter.
    m = training_memory(1.5e9)
    assert m.bytes_per_param == 16 and m.total_bytes == pytest.approx(24e9)
    assert m.weight_bytes_per_param == 2 and m.gradient_bytes_per_param == 2 and m.optimizer_bytes_per_param == 12


@pytest.mark.parametrize("stage, gb", [(0, 120), (1, 31.4), (2, 16.6), (3, 1.9)])
def test_zero_figure_1_7_5b_on_64_devices(stage, gb):
    # ZeRO Figure 1: Ψ = 7.5B, N_d = 64, K = 12.
    assert training_memory(7.5e9, shards=64, zero_stage=stage).per_device_gb == pytest.approx(gb, abs=0.05)


def test_h100_ridge_is_about_295_flop_per_byte():
    # 989 TFLOP/s dense BF16 over 3.35 TB/s (NVIDIA H100 SXM datasheet).
    assert roofline("H100 SXM").ridge_intensity == pytest.approx(295.2, abs=0.1)


def test_korthikanti_table_2():
    s, b, h, a, t = 2048, 1, 12288, 96, 8
    sbh = s * b * h
    f = dict(n_layer=1, d_model=h, n_head=a, n_ctx=s, micro_batch=b)
    assert activation_memory(**f) == pytest.approx(sbh * (34 + 5 * a * s / h))
    assert activation_memory(**f, tensor_parallel=t) == pytest.approx(sbh * (10 + 24 / t + 5 * a * s / (h * t)))
    assert activation_memory(**f, tensor_parallel=t, sequence_parallel=True) == \
        pytest.approx(sbh / t * (34 + 5 * a * s / h))
    assert activation_memory(**f, tensor_parallel=t, recompute="selective") == pytest.approx(sbh * (10 + 24 / t))
    assert activation_memory(**f, tensor_parallel=t, sequence_parallel=True, recompute="selective") == \
        pytest.approx(34 * sbh / t)
    assert activation_memory(**f, recompute="full") == pytest.approx(2 * sbh)


def test_scaling_book_kv_cache_llama2_13b():
    # jax-ml/scaling-book, inference chapter: 8192 x 40 x 128 x 40 x 2 x 2 bytes = 6.7 GB.
    assert kv_cache_bytes(40, 40, 128, 8192) == 8192 * 40 * 128 * 40 * 2 * 2


def test_gqa_shrinks_the_cache_by_the_group_size():
    # Llama 3 70B: 64 query heads share 8 KV heads (arXiv 2407.21783, Table 3).
    assert kv_cache_bytes(80, 64, 128, 1000) == 8 * kv_cache_bytes(80, 8, 128, 1000)


def test_decode_floor_of_70b_on_8_h100():
    step = decode_time(70e9, "H100 SXM", n_devices=8)
    assert step.seconds == pytest.approx(140e9 / (8 * 3.35e12))
    assert step.bound == "memory" and step.fits


def test_decode_becomes_compute_bound_near_the_ridge():
    ridge = roofline("H100").ridge_intensity                   # ~295 tokens per step with bf16 weights
    assert decode_time(70e9, "H100", 8, batch=int(ridge) - 5).bound == "memory"
    assert decode_time(70e9, "H100", 8, batch=int(ridge) + 5).bound == "compute"


def test_batching_is_almost_free_while_memory_bound():
    one, many = decode_time(70e9, "H100", 8, batch=1), decode_time(70e9, "H100", 8, batch=64)
    assert many.seconds == one.seconds and many.tokens_per_second == 64 * one.tokens_per_second


def test_pipeline_bubble_gpipe():
    assert pipeline_bubble(4, 16) == pytest.approx(3 / 19)
    assert pipeline_bubble(16, 1) == pytest.approx(15 / 16)


# --- other checks -----------------------------------------------------------------------------------

@pytest.mark.parametrize("optimizer, precision, expected", [
    ("adamw", "fp32", 16), ("adamw", "bf16-mixed", 16), ("sgd-momentum", "fp32", 12), ("sgd", "fp32", 8),
    ("sgd-momentum", "bf16-mixed", 12), ("adamw", "bf16", 8), ("Adam", "FP16 mixed", 16),
])
def test_bytes_per_param(optimizer, precision, expected):
    assert training_memory(1e9, optimizer, precision).bytes_per_param == expected


def test_mixed_precision_moves_no_bytes_out_of_adam():
    # Mixed precision keeps an fp32 master copy: 16 bytes per parameter, the same as fp32 training.
    assert training_memory(7e9, precision="bf16-mixed").total_bytes == training_memory(7e9, precision="fp32").total_bytes


def test_roofline_time_and_attainable():
    r = roofline("A100")
    assert r.time(1e12, 0) == pytest.approx(1e12 / 312e12)
    assert r.time(0, 2.039e12) == pytest.approx(1.0)
    assert r.attainable_flops(1.0) == pytest.approx(2.039e12)
    assert r.attainable_flops(1e6) == pytest.approx(312e12)
    np.testing.assert_allclose(r.attainable_flops(np.array([1.0, 1e6])), [2.039e12, 312e12])
    assert r.bound(1, 1) == "memory"


def test_measured_roofline():
    r = roofline(None, peak_flops=1e11, bandwidth=2e10, name="laptop")
    assert r.name == "laptop" and r.ridge_intensity == 5


def test_interconnect_column():
    assert accelerator("H100").interconnect_gb_s == 900
    assert accelerator("H800").interconnect_gb_s == 400
    with pytest.raises(ScalingLabError, match="no published per-device interconnect"):
        accelerator("TPU v4").interconnect_bytes_per_s()


# --- properties -------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(n=st.floats(1e6, 1e13), shards=st.integers(1, 4096), opt=st.sampled_from(sorted(OPTIMIZERS)),
       prec=st.sampled_from(sorted(TRAINING_PRECISIONS)))
def test_more_sharding_never_needs_more_memory(n, shards, opt, prec):
    per = [training_memory(n, opt, prec, shards, s).per_device_bytes for s in range(4)]
    assert all(a >= b * (1 - 1e-12) for a, b in zip(per, per[1:]))
    assert per[3] == pytest.approx(training_memory(n, opt, prec).total_bytes / shards)


@settings(max_examples=60, deadline=None)
@given(s=st.integers(1, 32768), b=st.integers(1, 64), t=st.sampled_from([1, 2, 4, 8]),
       sp=st.booleans())
def test_recomputation_only_saves(s, b, t, sp):
    f = dict(n_layer=4, d_model=4096, n_head=32, n_ctx=s, micro_batch=b, tensor_parallel=t, sequence_parallel=sp)
    none, selective, full = (activation_memory(**f, recompute=r) for r in RECOMPUTE)
    assert none >= selective
    assert none >= full


@settings(max_examples=60, deadline=None)
@given(p=st.integers(1, 128), m=st.integers(1, 4096))
def test_bubble_is_a_fraction_that_shrinks_with_microbatches(p, m):
    x = pipeline_bubble(p, m)
    assert 0 <= x < 1 and pipeline_bubble(p, m + 1) <= x


@settings(max_examples=60, deadline=None)
@given(n=st.floats(1e8, 2e12), devices=st.integers(1, 64), batch=st.integers(1, 4096))
def test_decode_floor_is_the_larger_bound(n, devices, batch):
    d = decode_time(n, "H100", devices, batch)
    assert d.seconds == max(d.compute_seconds, d.memory_seconds) > 0


# --- errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("shards", [0, -1, 2.5, "8", None, True])
def test_bad_shards(shards):
    with pytest.raises(ScalingLabError, match="shards"):
        training_memory(7e9, shards=shards)


@pytest.mark.parametrize("stage", [-1, 4, 1.5, "2", None, True])
def test_bad_zero_stage(stage):
    with pytest.raises(ScalingLabError, match="zero_stage must be 0, 1, 2 or 3"):
        training_memory(7e9, zero_stage=stage)


def test_unknown_optimizer_suggests():
    with pytest.raises(UnknownNameError) as err:
        training_memory(7e9, optimizer="adamw8")
    assert "adamw" in err.value.suggestions and "optimizer" in str(err.value)


def test_unknown_precision_suggests():
    with pytest.raises(UnknownNameError) as err:
        training_memory(7e9, precision="bf16-mix")
    assert "bf16-mixed" in err.value.suggestions


@pytest.mark.parametrize("m", [0, -3, 1.5, None])
def test_bad_microbatches(m):
    with pytest.raises(ScalingLabError, match="microbatches"):
        pipeline_bubble(4, m)


@pytest.mark.parametrize("bad", [0, -1e9, math.nan, math.inf, "many", [1, 2], 1e300])
def test_bad_n_params(bad):
    with pytest.raises(ScalingLabError, match="n_params"):
        training_memory(bad)


def test_too_many_tensor_parallel_ranks():
    with pytest.raises(ScalingLabError, match="tensor_parallel"):
        activation_memory(2, 512, 8, 128, tensor_parallel=16)


def test_roofline_needs_numbers_without_accelerator():
    with pytest.raises(ScalingLabError, match="peak_flops"):
        roofline(None)
    with pytest.raises(UnknownNameError):
        roofline("H1000")


def test_kv_cache_rejects_bad_bytes():
    with pytest.raises(ScalingLabError, match="bytes_per_value"):
        kv_cache_bytes(2, 2, 64, 10, bytes_per_value=0)


def test_decode_unknown_accelerator():
    with pytest.raises(UnknownNameError, match="accelerator"):
        decode_time(7e9, "A1000")


# --- the explorer "Will it fit, and how fast?" ------------------------------------------------------

def test_compute_fit_the_popular_7b_on_one_a100():
    from scalinglab.memory_explorers import compute_memory
    v = compute_memory(7e9, accelerator="A100", n_ctx=2048, micro_batch=4)
    assert v.memory.per_device_bytes == pytest.approx(112e9)
    assert not v.fits and v.max_micro_batch == 0
    assert v.comm_seconds == 0 and v.compute_seconds > 0 and v.memory_seconds > 0
    sharded = compute_memory(7e9, zero_stage=3, n_devices=8, accelerator="A100", n_ctx=2048, recompute="full")
    assert sharded.fits and sharded.max_micro_batch > 100


def test_model_shape_follows_12_l_d_squared():
    from scalinglab.memory_explorers import model_shape
    n_layer, d_model, n_head = model_shape(175e9)
    assert 12 * n_layer * d_model**2 == pytest.approx(175e9, rel=0.1) and d_model == 128 * n_layer == 128 * n_head


def test_fit_explorer_moves_bars_and_readout():
    from scalinglab.memory_explorers import MemoryExplorer
    e = MemoryExplorer()
    first = next(iter(e.controls))
    assert first == "n_params" and type(e.controls[first]).__name__ == "FloatLogSlider"
    before_png, before_text = e.image.value, e.readout.value
    e.controls["n_params"].value = 2e9
    assert e.image.value != before_png and e.readout.value != before_text
    assert e.result.n_params == pytest.approx(2e9)
    e.set(n_devices=64, zero_stage=3, accelerator="TPU v4")       # a device with no published link
    assert "no published" in e.readout.value


def test_fit_explorer_presets_set_every_control():
    from scalinglab.memory_explorers import MemoryExplorer, _presets
    for name, values in _presets().items():
        assert set(values) == set(MemoryExplorer().controls), name
        e = MemoryExplorer(preset=name)
        assert e.values() == values


def test_fit_explorer_update_is_fast():
    import time
    from scalinglab.memory_explorers import MemoryExplorer
    e = MemoryExplorer()
    times = []
    for x in np.linspace(8.5, 11.5, 12):
        start = time.perf_counter()
        e.controls["n_params"].value = 10**x
        times.append(time.perf_counter() - start)
    assert np.median(times) < 0.2        # well under the 100 ms bar on a quiet machine; CI machines are shared
