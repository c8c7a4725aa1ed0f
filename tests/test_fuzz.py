"""Fuzzing the public API: every bad argument gives a ScalingLabError, a finite result, and no hang.

Each function of ``scalinglab.__all__`` is called with otherwise-valid arguments and one argument
replaced by a bad value (a boolean, a malformed string, None, NaN, inf, a huge number, a list...).
The call must either return a result whose numbers are all finite, or raise ScalingLabError; any
other exception, or a call that runs for more than a few seconds, is a bug. Functions that start
worker processes (run_sweep, quick_sweep, isoflop_sweep, measure_machine) are checked by explicit
tests below instead.
"""

import dataclasses
import math
import signal
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scalinglab as sl
from scalinglab import ScalingLabError

TIMEOUT = 5   # seconds per call

_N, _D = (x.ravel() for x in np.meshgrid(np.logspace(7.5, 10, 4), np.logspace(9, 12, 4)))
_RUNS = sl.load_runs("synthetic")

#: Every public function taking arguments, with valid keyword arguments to start from.
VALID = {
    "parse_quantity": dict(text="7B"),
    "format_quantity": dict(value=1.7e12, digits=3),
    "training_flops": dict(n_params=175e9, n_tokens=300e9),
    "matmul_flops": dict(m=4, n=5, k=6),
    "transformer_params": dict(n_layer=2, d_model=64, n_vocab=100, n_ctx=32, bias=True, d_ff=None, n_head=4,
                               n_kv_head=None, d_head=None, mlp="gelu", norm="layernorm", position="learned",
                               tied_embeddings=True, n_experts=1, n_active_experts=1),
    "transformer_flops": dict(n_layer=2, d_model=64, n_vocab=100, n_ctx=32, d_ff=None, n_head=4, n_kv_head=None,
                              d_head=None, mlp="gelu", n_experts=1, n_active_experts=1, method="kaplan",
                              tied_embeddings=True, n_params=None),
    "training_time": dict(flops=1e23, accelerator="A100", n_devices=1000, mfu=0.4, precision="bf16", sparse=False,
                          price_per_device_hour=2.0, pue=1.1),
    "accelerator": dict(name="A100"),
    "model_card": dict(name="GPT-3"),
    "chinchilla_fit": dict(fit="hoffmann2022"),
    "chinchilla_loss": dict(n_params=70e9, n_tokens=1.4e12, fit="hoffmann2022"),
    "chinchilla_tokens": dict(n_params=70e9, tokens_per_param=20.0),
    "compute_optimal": dict(flops=5.76e23, fit="hoffmann2022"),
    "compute_optimal_by_ratio": dict(flops=5.76e23, tokens_per_param=20.0),
    "isoflop_curve": dict(flops=5.76e23, n_params=[35e9, 70e9], fit="hoffmann2022"),
    "kaplan_loss": dict(n_params=1e9),
    "kaplan_compute_optimal": dict(compute_pf_days=1.0),
    "kaplan_min_tokens": dict(n_params=1e9),
    "kaplan_overfit_penalty": dict(n_params=1e9, n_tokens=1e10),
    "power_law": dict(x=[1.0, 10.0], coefficient=2.0, exponent=0.5),
    "fit_power_law": dict(x=[1.0, 10.0, 100.0], y=[2.0, 6.0, 20.0]),
    "fit_approach1": dict(n_params=_RUNS.n_params, n_tokens=_RUNS.n_tokens, loss=_RUNS.loss, flops=None, rtol=0.05),
    "fit_approach2": dict(n_params=_RUNS.n_params, n_tokens=_RUNS.n_tokens, loss=_RUNS.loss, flops=None, rtol=0.05),
    "fit_chinchilla": dict(n_params=_N, n_tokens=_D, loss=sl.chinchilla_loss(_N, _D), delta=1e-3,
                           starts=sl.hoffmann_grid()[::450], n_boot=0, level=0.95, seed=0, progress=False,
                           max_iter=50, name="fuzz"),
    "hoffmann_projections": dict(approach=1),
    "load_runs": dict(name="synthetic"),
    "load_sweep": dict(exponent=1.5),
    "mlp_params": dict(hidden=16, context=8, embed=16, vocab=27),
    "mlp_flops": dict(hidden=16, context=8, embed=16, vocab=27, batch_size=256),
    "train_mlp": dict(hidden=8, n_tokens=2048, exponent=1.5, seed=0, unique_tokens=None, batch_size=256, lr=None,
                      warmup_fraction=0.02, eval_tokens=1024),
    "zipf_entropy": dict(exponent=1.5, n_words=1000, seed=0),
    "zipf_lexicon": dict(exponent=1.5, n_words=1000, seed=0),
    "zipf_stream": dict(n_tokens=100, exponent=1.5, seed=0, n_words=1000, lexicon_seed=0),
    "training_memory": dict(n_params=7e9, optimizer="adamw", precision="bf16-mixed", shards=8, zero_stage=1),
    "activation_memory": dict(n_layer=4, d_model=512, n_head=8, n_ctx=128, micro_batch=2, recompute="none",
                              tensor_parallel=2, sequence_parallel=False),
    "roofline": dict(accelerator="H100", precision="bf16", sparse=False, peak_flops=None, bandwidth=None, name=None),
    "kv_cache_bytes": dict(n_layers=4, n_kv_heads=2, head_dim=64, n_tokens=100, bytes_per_value=2),
    "decode_time": dict(n_params=7e9, accelerator="H100", n_devices=2, batch=4, kv_bytes_per_sequence=1e6,
                        bytes_per_param=2.0, precision="bf16"),
    "pipeline_bubble": dict(stages=4, microbatches=8),
    "inference_optimal": dict(loss=2.05, inference_tokens=2e12, fit="sardana2024"),
    "tokens_for_loss": dict(n_params=7e9, loss=2.05, fit="sardana2024"),
    "chinchilla_optimal_tokens": dict(n_params=13e9, fit="sardana2024"),
    "lifetime_flops": dict(n_params=13e9, n_tokens=5e11, inference_tokens=2e12),
    "effective_tokens": dict(unique_tokens=1e11, epochs=4, r_star=15.4),
    "effective_params": dict(n_params=2e9, unique_params=1e9, r_star=5.3),
    "data_constrained_loss": dict(n_params=6.34e9, n_tokens=242e9, unique_tokens=25e9),
    "equivalent_fresh_tokens": dict(loss=1.5, fresh_tokens=[1e4, 1e5], fresh_loss=[2.0, 1.0]),
    "fit_r_star": dict(epochs=[2, 4, 8], effective_ratio=[1.9, 3.5, 6.0]),
    "deepseek_flops_per_token": dict(n_layer=30, d_model=4096, seq_len=4096),
    "deepseek_learning_rate": dict(flops=1e22),
    "deepseek_batch_size": dict(flops=1e22),
    "load_repeated_runs": dict(hidden_units=64, unique_tokens=25000),
    "effective_ratio": dict(runs=sl.load_repeated_runs(64, 25000), unique_tokens=25000),
    "exact_match": dict(per_token_accuracy=0.9, length=10),
    "per_token_accuracy_needed": dict(exact_match_target=0.5, length=10),
    "pass_at_k": dict(success_probability=0.3, k=10),
    "pass_at_k_unbiased": dict(n_samples=200, n_correct=57, k=10),
    "best_of_n_accuracy": dict(success_probability=0.3, n=10, tpr=0.9, fpr=0.1),
    "best_of_n_ceiling": dict(success_probability=0.3, tpr=0.9, fpr=0.1),
    "best_of_n_kl": dict(n=64),
    "overoptimization_gold_reward": dict(kl=4.0, alpha=1.0, beta=0.25, method="bon"),
    "sigmoid_accuracy": dict(task_nll=1.0, midpoint=1.0, slope=5.0, chance=0.25),
    "challenge_truth": dict(student="alice", secret=b"a test secret of thirty-two bytes"),
    "score_prediction": dict(truth=sl.challenge_truth("alice", b"a test secret of thirty-two bytes"), n_params=1e9,
                             n_tokens=1.6e10, loss=2.0),
    "fit_two_step": dict(flops=[1e18, 1e19, 1e20, 1e21], task_nll=[1.2, 1.0, 0.8, 0.6], accuracy=[0.2, 0.4, 0.6, 0.8],
                         chance=0.0, step1=None),
}
#: Public functions without arguments, or that start worker processes (tested explicitly below).
NOT_FUZZED = {"accelerators", "model_cards", "hoffmann_grid", "check_environment", "environment_report",
              "run_sweep", "quick_sweep", "isoflop_sweep", "measure_machine", "load_recipes",
              "load_ability_series", "string_metrics", "word_completion"}

BAD_VALUES = [True, False, np.True_, "1,4T", "1,5", "abc", "False", "", None, math.nan, math.inf, -math.inf, -1, -0.5,
              0, 1e308, 5e-324, 10 ** 400, 2 ** 64, -(10 ** 30), [1, 2], ["gelu"], [], {}, {"a": 1}, (True,),
              np.array([True, False])]

CASES = [(name, argument) for name, kwargs in VALID.items() for argument in kwargs]


class Hang(Exception):
    """A call ran for longer than TIMEOUT seconds."""


def _alarm(signum, frame):
    raise Hang(f"call ran for more than {TIMEOUT} s")


def call_guarded(fn, kwargs):
    """Call fn(**kwargs) with an alarm; return (result, None) or (None, ScalingLabError). Other errors propagate."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # ConvergenceWarning, skipped budgets: warnings, not errors
            return fn(**kwargs), None
    except ScalingLabError as error:
        return None, error
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def non_finite(value, path="result", depth=0):
    """Paths of the numbers in ``value`` that are not finite (recursing into containers and dataclasses)."""
    if depth > 4 or value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        return []
    if isinstance(value, (int, np.integer)):
        return []
    if isinstance(value, (float, np.floating, complex)):
        return [] if np.isfinite(value) else [f"{path} = {value}"]
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return [f"{path} holds non-finite values"]
        return []
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in non_finite(v, f"{path}[{k!r}]", depth + 1)]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value[:1000]) for p in non_finite(v, f"{path}[{i}]", depth + 1)]
    found = []
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name != "samples":            # bootstrap samples are NaN where a refit failed, by design
                found += non_finite(getattr(value, f.name), f"{path}.{f.name}", depth + 1)
    for name in dir(type(value)):              # numeric properties too (days, ratio_to_6n, unigram_entropy...)
        if not name.startswith("_") and isinstance(getattr(type(value), name), property) and depth < 2:
            try:
                attr = getattr(value, name)
            except ScalingLabError:
                continue
            found += non_finite(attr, f"{path}.{name}", depth + 1)
    return found


def check_call(name, kwargs):
    result, error = call_guarded(getattr(sl, name), kwargs)
    if error is None:
        bad = non_finite(result)
        assert not bad, f"{name}({kwargs}) returned non-finite numbers: {bad}"
    return result, error


def test_the_table_covers_the_public_api():
    functions = {n for n in sl.__all__ if callable(getattr(sl, n)) and not isinstance(getattr(sl, n), type)}
    assert functions == set(VALID) | NOT_FUZZED


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_arguments_give_finite_results(name):
    result, error = check_call(name, VALID[name])
    assert error is None, error


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), bad=st.sampled_from(BAD_VALUES))
def test_one_bad_argument_gives_a_clear_error_or_a_finite_result(case, bad):
    name, argument = case
    check_call(name, {**VALID[name], argument: bad})


@pytest.mark.parametrize("bad", [v for v in BAD_VALUES if not isinstance(v, (list, dict, tuple, np.ndarray))],
                         ids=repr)
def test_every_argument_of_the_cheap_functions(bad):
    """Exhaustive (not sampled) over the functions that answer in microseconds."""
    for name, kwargs in VALID.items():
        if name in ("train_mlp", "fit_chinchilla", "fit_approach1", "fit_approach2", "zipf_lexicon",
                    "zipf_entropy", "zipf_stream"):
            continue
        for argument in kwargs:
            check_call(name, {**kwargs, argument: bad})


# ------------------------------------------------------------------ regression tests, one per defect found

def raises(call, *words):
    with pytest.raises(ScalingLabError) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)
    return info.value


# 1. flags must be real booleans
@pytest.mark.parametrize("flag", ["False", "True", 0, 1, None, "no"])
def test_flags_refuse_non_booleans(flag):
    raises(lambda: sl.training_time(1e23, "A100", 1000, 0.4, sparse=flag), "sparse", repr(flag))
    raises(lambda: sl.transformer_params(12, 768, 50257, 1024, tied_embeddings=flag), "tied_embeddings")
    raises(lambda: sl.transformer_params(12, 768, 50257, 1024, bias=flag), "bias")
    raises(lambda: sl.transformer_flops(12, 768, 50257, 1024, tied_embeddings=flag), "tied_embeddings")
    raises(lambda: sl.accelerator("A100").peak_flops("bf16", sparse=flag), "sparse")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), progress="False"), "progress")


def test_string_false_is_not_true():
    error = raises(lambda: sl.training_time(1e23, "A100", 1000, 0.4, sparse="False"), "sparse", "'False'")
    assert "without quotes" in str(error)


def test_flags_accept_numpy_booleans():
    dense = sl.training_time(1e23, "A100", 1000, 0.4, sparse=np.False_)
    sparse = sl.training_time(1e23, "A100", 1000, 0.4, sparse=np.True_)
    assert dense.days == pytest.approx(2 * sparse.days)
    assert sl.transformer_params(12, 768, 50257, 1024, bias=np.False_).total == 124337664


# 2. commas only as thousands separators
@pytest.mark.parametrize("text, hint", [("1,4T", "1.4T"), ("1,5", "1.5"), ("2,5B", "2.5B")])
def test_decimal_commas_are_refused_with_a_hint(text, hint):
    raises(lambda: sl.parse_quantity(text), repr(text), f"did you mean {hint!r}")
    raises(lambda: sl.training_flops(text, 1e12), "n_params", repr(text))
    raises(lambda: sl.chinchilla_loss(70e9, text), "n_tokens")


@pytest.mark.parametrize("text", ["12,34,567", "1,0000", ",100", "1,,000", "1000,000"])
def test_misplaced_commas_are_refused(text):
    raises(lambda: sl.parse_quantity(text), repr(text))


@pytest.mark.parametrize("text, value", [("1,000,000", 1e6), ("1,500B", 1.5e12), ("124,439,808", 124439808.0),
                                         ("1,500.5", 1500.5), ("1,400 B", 1.4e12)])
def test_thousands_separators_are_accepted(text, value):
    assert sl.parse_quantity(text) == value


# 3. booleans are not numbers
def test_booleans_are_not_numbers():
    raises(lambda: sl.training_time(1e23, "A100", 1000, mfu=True), "mfu", "True")
    raises(lambda: sl.power_law([1, 10], 2.0, True), "exponent", "True")
    raises(lambda: sl.fit_approach1(_RUNS.n_params, _RUNS.n_tokens, _RUNS.loss, rtol=True), "rtol", "True")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), delta=True), "delta", "True")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), n_boot=5, level=True), "level")
    raises(lambda: sl.training_flops([1e9, True], 1e12), "n_params")
    raises(lambda: sl.training_flops(np.array([True]), 1e12), "n_params")
    raises(lambda: sl.parse_quantity(np.True_), "boolean")
    raises(lambda: sl.hoffmann_projections(True), "approach")      # True == 1 used to pick Approach 1
    assert len(sl.hoffmann_projections(2.0).n_params) == len(sl.hoffmann_projections(2).n_params)


# 4. non-finite and out-of-range values, overflow
def test_non_finite_tolerances_are_refused():
    raises(lambda: sl.fit_approach1(_RUNS.n_params, _RUNS.n_tokens, _RUNS.loss, rtol=-math.inf), "rtol", "-inf")
    raises(lambda: sl.fit_approach2(_RUNS.n_params, _RUNS.n_tokens, _RUNS.loss, rtol=math.nan), "rtol", "nan")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), delta=math.inf), "delta", "inf")


def test_overflowing_results_are_refused():
    raises(lambda: sl.training_flops(1e308, 1e10), "training_flops", "inf")
    raises(lambda: sl.compute_optimal(5e-324), "flops")
    raises(lambda: sl.compute_optimal_by_ratio(1e308, 1e-308), "flops")
    raises(lambda: sl.chinchilla_tokens(1e308, 1e10), "n_params")
    raises(lambda: sl.isoflop_curve(1e308, [1e-300]), "n_tokens")
    raises(lambda: sl.power_law(1e300, 1e300, 2.0), "power_law")
    raises(lambda: sl.training_time(1e300, "A100", 1, mfu=5e-324), "training time")
    raises(lambda: sl.kaplan_loss(n_params=5e-324))


def test_small_lexicon_has_a_finite_unigram_entropy():
    lexicon = sl.zipf_lexicon(n_words=7)
    assert math.isfinite(lexicon.unigram_entropy) and lexicon.unigram_entropy > 0


@pytest.mark.parametrize("huge", [10 ** 400, -(10 ** 400)])
def test_integers_beyond_float_range_are_refused(huge):
    raises(lambda: sl.training_flops(huge, 1e10), "n_params", "digits")
    raises(lambda: sl.parse_quantity(huge), "digits")
    raises(lambda: sl.format_quantity(huge), "value")
    raises(lambda: sl.training_time(1e23, "A100", 10, mfu=huge), "mfu")
    raises(lambda: sl.power_law(10, 2, huge), "exponent")
    raises(lambda: sl.zipf_lexicon(huge), "exponent")
    raises(lambda: sl.load_sweep(huge), "exponent")


# 5. arguments that used to give raw exceptions
@pytest.mark.parametrize("seed", [None, -1, 1.5, "0", True])
def test_seeds_are_checked(seed):
    raises(lambda: sl.zipf_lexicon(seed=seed), "seed")
    raises(lambda: sl.zipf_stream(10, seed=seed), "seed")
    raises(lambda: sl.zipf_stream(10, lexicon_seed=seed), "lexicon_seed")
    raises(lambda: sl.train_mlp(8, 512, seed=seed, eval_tokens=256), "seed")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), n_boot=5, seed=seed), "seed")
    raises(lambda: sl.MLPLanguageModel(8, seed=seed), "seed")


def test_other_unchecked_arguments():
    raises(lambda: sl.format_quantity(1e9, digits="3"), "digits", "'3'")
    raises(lambda: sl.format_quantity(1e9, digits=2.5), "digits")
    raises(lambda: sl.transformer_params(2, 64, 100, 32, mlp=["gelu"]), "mlp")
    raises(lambda: sl.transformer_params(2, 64, 100, 32, norm=["rmsnorm"]), "norm")
    raises(lambda: sl.transformer_params(2, 64, 100, 32, position={}), "position")
    raises(lambda: sl.transformer_flops(2, 64, 100, 32, method=["kaplan"]), "method")
    raises(lambda: sl.transformer_flops(2, 64, 100, 32, n_params=[1e6, 2e6]), "n_params")
    raises(lambda: sl.training_time(1e23, "A100", 1000, 0.4, pue=[1.1, 1.2]), "pue", "single")
    raises(lambda: sl.training_time(1e23, "A100", 1000, 0.4, price_per_device_hour=[2.0]), "price_per_device_hour")
    raises(lambda: sl.train_mlp(8, 512, warmup_fraction="7b", eval_tokens=256), "warmup_fraction", "'7b'")
    raises(lambda: sl.train_mlp(8, 512, lr=1e308, eval_tokens=256), "lr")
    raises(lambda: sl.zipf_stream(1e30), "n_tokens")
    raises(lambda: sl.zipf_lexicon().stream(10 ** 12), "n_tokens")


# 6. hangs: upper bounds on work
def test_huge_work_is_refused_at_once():
    raises(lambda: sl.train_mlp(8, 1e30), "n_tokens", "at most")
    raises(lambda: sl.train_mlp(10 ** 9, 1024), "hidden", "at most")
    raises(lambda: sl.train_mlp(8, 1024, batch_size=10 ** 12), "batch_size")
    raises(lambda: sl.measure_machine(seconds=1e308), "seconds", "at most")
    raises(lambda: sl.measure_machine(n_steps=10 ** 12), "n_steps")
    raises(lambda: sl.measure_machine(hidden=[10 ** 12]), "hidden")
    raises(lambda: sl.run_sweep([16], [1e30], progress=False), "n_tokens", "at most")
    raises(lambda: sl.run_sweep([16], [1000], seed=None, progress=False), "seed")
    raises(lambda: sl.run_sweep([16], [1000], progress="yes"), "progress")
    raises(lambda: sl.isoflop_sweep(1e30, progress=False), "flops")
    raises(lambda: sl.quick_sweep(seed=-1, progress=False), "seed")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), n_boot=10 ** 9), "n_boot", "at most")
    raises(lambda: sl.fit_chinchilla(_N, _D, sl.chinchilla_loss(_N, _D), max_iter=1e30), "max_iter", "at most")


# 7. no RuntimeWarning from a fit that works
def test_fit_chinchilla_is_silent():
    N, D = (x.ravel() for x in np.meshgrid(np.logspace(7.5, 10, 8), np.logspace(9, 12, 8)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = sl.fit_chinchilla(N, D, sl.chinchilla_loss(N, D, fit="hoffmann2022"))
    assert (round(fit.E, 2), round(fit.A, 1), round(fit.B, 1)) == (1.69, 406.4, 410.7)
