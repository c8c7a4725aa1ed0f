"""Lesson 08's formulas and explorers: inference-aware scaling, repeated data, hyperparameter fits, recipes."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglab import ScalingLabError, chinchilla_loss
from scalinglab.beyond import (
    MUENNIGHOFF_FIT, R_STAR_TOKENS, SARDANA_FIT, chinchilla_optimal_tokens, data_constrained_loss,
    deepseek_batch_size, deepseek_flops_per_token, deepseek_learning_rate, effective_params, effective_ratio,
    effective_tokens, equivalent_fresh_tokens, fit_r_star, inference_optimal, lifetime_flops, load_recipes,
    load_repeated_runs, tokens_for_loss,
)
from scalinglab.beyond_explorers import (
    InferenceExplorer, RepetitionExplorer, compute_inference, compute_repetition, plot_inference, plot_repetition,
)


# --- paper reproductions -------------------------------------------------------------------------------

def test_sardana2024_figure1_13b_to_7b_saves_1_7e22_flops_17_percent():
    # Sardana et al. 2024 (arXiv 2401.00448), Figure 1: a Chinchilla-optimal 13B model serving 2T tokens
    # costs 1.7e22 FLOPs (17%) more over its life than a 7B model trained longer to the same quality.
    N13 = 13e9
    loss = chinchilla_loss(N13, chinchilla_optimal_tokens(N13), fit=SARDANA_FIT)
    big = lifetime_flops(N13, chinchilla_optimal_tokens(N13), 2e12)
    small = lifetime_flops(7e9, tokens_for_loss(7e9, loss), 2e12)
    assert f"{big - small:.2g}" == "1.7e+22"
    assert round(100 * (big - small) / big) == 17


def test_sardana2024_the_7b_model_is_the_inference_optimum():
    loss = chinchilla_loss(13e9, chinchilla_optimal_tokens(13e9), fit=SARDANA_FIT)
    o = inference_optimal(loss, 2e12)
    assert 6.5e9 < o.n_params < 7.5e9
    assert o.chinchilla_n_params == pytest.approx(13e9, rel=1e-9)
    assert round(100 * o.savings) == 17


def test_muennighoff2023_figure1_right_two_models_from_their_repository():
    # huggingface/datablations README, "Parametric Fit": 2.2256440889984477 and 2.2269634075087867
    assert data_constrained_loss(6.34e9, 242e9, 25e9) == pytest.approx(2.2256440889984477, abs=1e-9)
    assert data_constrained_loss(8.67e9, 178e9, 25e9) == pytest.approx(2.2269634075087867, abs=1e-9)


def test_muennighoff2023_four_epochs_almost_as_good_as_fresh():
    # arXiv 2305.16264: up to about 4 epochs repeated data is almost as good as unique data
    assert effective_tokens(1.0, 4) / 4 > 0.9
    assert effective_tokens(1.0, 40) / 40 < 0.4
    assert effective_tokens(1.0, 1e6) == pytest.approx(1 + R_STAR_TOKENS, rel=1e-6)
    assert MUENNIGHOFF_FIT.alpha == MUENNIGHOFF_FIT.beta


def test_deepseek_llm_fits_give_its_7b_and_67b_hyperparameters():
    # DeepSeek LLM (arXiv 2401.02954), Table 2: 7B lr 4.2e-4, 2304 x 4096 tokens; 67B lr 3.2e-4, 4608 sequences
    C7 = deepseek_flops_per_token(30, 4096, 4096) * 2e12
    C67 = deepseek_flops_per_token(95, 8192, 4096) * 2e12
    assert deepseek_learning_rate(C7) == pytest.approx(4.2e-4, rel=0.03)
    assert deepseek_learning_rate(C67) == pytest.approx(3.2e-4, rel=0.05)
    assert deepseek_batch_size(C7) / 4096 == pytest.approx(2304, rel=0.05)
    assert deepseek_batch_size(C67) / 4096 == pytest.approx(4608, rel=0.15)


def test_recipes_have_sources_and_known_ratios():
    recipes = {r.name: r for r in load_recipes()}
    assert round(recipes["Chinchilla"].tokens_per_param) == 20
    assert round(recipes["Llama 3 70B"].tokens_per_param) == 214
    assert round(recipes["Llama 3 8B"].tokens_per_param) == 1875
    assert 8 <= recipes["nanochat (2e18 FLOPs sweep)"].tokens_per_param <= 12
    assert all(r.source for r in recipes.values())


# --- properties ------------------------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.floats(1e9, 1e11), st.floats(1e9, 1e15))
def test_more_inference_means_smaller_models_trained_longer(quality, served):
    loss = chinchilla_loss(quality, chinchilla_optimal_tokens(quality, fit=SARDANA_FIT), fit=SARDANA_FIT)
    a, b = inference_optimal(loss, served), inference_optimal(loss, served * 10)
    assert b.n_params <= a.n_params * (1 + 1e-9)
    assert b.tokens_per_param >= a.tokens_per_param * (1 - 1e-9)
    assert 0 <= a.savings < 1
    assert chinchilla_loss(a.n_params, a.n_tokens, fit=SARDANA_FIT) == pytest.approx(loss, rel=1e-9)
    # the optimum costs no more than any other model of the same loss
    for n in (a.n_params * 0.8, a.n_params * 1.25):
        try:
            other = lifetime_flops(n, tokens_for_loss(n, loss), served)
        except ScalingLabError:     # too small to reach the loss at all
            continue
        assert a.total_flops <= other * (1 + 1e-9)


@settings(max_examples=40, deadline=None)
@given(st.floats(1e8, 1e12), st.floats(1.9, 3.0))
def test_tokens_for_loss_inverts_the_law(n, loss):
    try:
        d = tokens_for_loss(n, loss)
    except ScalingLabError:
        assert loss - 1.69 - 406.4 / n ** 0.336 <= 0
        return
    assert chinchilla_loss(n, d, fit=SARDANA_FIT) == pytest.approx(loss, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.floats(1.0, 1e4), st.floats(0.1, 1e3))
def test_effective_tokens_never_beat_fresh_ones_nor_the_ceiling(epochs, r_star):
    d = effective_tokens(1.0, epochs, r_star)
    assert 1.0 <= d <= epochs * (1 + 1e-12)
    assert d <= 1 + r_star + 1e-9


@settings(max_examples=30, deadline=None)
@given(st.floats(0.5, 200.0))
def test_fit_r_star_recovers_its_own_law(r_star):
    e = np.array([2.0, 4.0, 8.0, 16.0, 64.0])
    assert fit_r_star(e, effective_tokens(1.0, e, r_star)).r_star == pytest.approx(r_star, rel=1e-4)


def test_effective_params_discount_excess_parameters():
    assert effective_params(1e9, 1e9) == pytest.approx(1e9)
    assert 1e9 < effective_params(3e9, 1e9) < 3e9


def test_equivalent_fresh_tokens_interpolates_and_extends():
    D, L = [1e4, 2e4, 4e4], [2.0, 1.5, 1.2]
    assert equivalent_fresh_tokens(1.5, D, L) == pytest.approx(2e4)
    assert equivalent_fresh_tokens(1.0, D, L) > 4e4
    assert equivalent_fresh_tokens(2.5, D, L) < 1e4


# --- errors ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, says", [
    (lambda: tokens_for_loss(1e6, 2.0), "cannot reach"),
    (lambda: inference_optimal(1.5, 1e12), "irreducible"),
    (lambda: inference_optimal(2.0, -1), "inference_tokens"),
    (lambda: inference_optimal("2", 1e12), "loss"),
    (lambda: inference_optimal(2.0, 1e12, fit="hofman"), "did you mean"),
    (lambda: effective_tokens(1e9, 0.5), "at least 1"),
    (lambda: effective_params(1e9, 2e9), "at least"),
    (lambda: data_constrained_loss(1e9, 1e9, 2e9), "at most"),
    (lambda: fit_r_star([1, 1], [1, 1]), "more than one epoch"),
    (lambda: fit_r_star([2, 4], [1.5]), "same length"),
    (lambda: equivalent_fresh_tokens(1.0, [1e4, 2e4], [1.0, 2.0]), "fall"),
    (lambda: load_repeated_runs(hidden_units=48), "one of"),
])
def test_bad_input_names_the_argument(call, says):
    with pytest.raises(ScalingLabError, match=says):
        call()


@pytest.mark.parametrize("bad", [None, True, "x", [1, 2], float("nan"), float("inf"), -1.0, 0])
def test_fuzzed_arguments_give_a_number_or_a_clear_error(bad):
    for call in (lambda: inference_optimal(bad, 1e12), lambda: inference_optimal(2.0, bad),
                 lambda: tokens_for_loss(bad, 2.0), lambda: effective_tokens(bad, 2),
                 lambda: deepseek_learning_rate(bad), lambda: lifetime_flops(1e9, bad, 0)):
        try:
            out = call()
        except ScalingLabError:
            continue
        assert out is not None


# --- the shipped repeated runs ------------------------------------------------------------------------------

def test_repeated_runs_give_a_small_r_star_for_the_laptop_model():
    runs = load_repeated_runs(64, 25_000)
    epochs, ratio = effective_ratio(runs, 25_000)
    keep = epochs <= 4
    fit = fit_r_star(epochs[keep], ratio[keep])
    assert 0.3 < fit.r_star < R_STAR_TOKENS      # the tiny model memorises sooner than Muennighoff's
    assert np.all(ratio[epochs == 2] > 1.5)         # two epochs are worth most of two fresh ones


# --- explorers ------------------------------------------------------------------------------------------------

def test_compute_inference_and_plot_update():
    v = compute_inference(2e12, 13e9)
    assert v.optimum.n_params < 13e9 < v.n_grid[-1]
    assert np.all(np.isfinite(v.total_flops))
    plot = plot_inference(v)
    plot.update(compute_inference(1e14, 7e10))


def test_inference_explorer_first_slider_changes_figure_and_readout():
    e = InferenceExplorer()
    assert list(e.controls)[0] == "inference_tokens"
    assert "tokens served" in e.controls["inference_tokens"].description
    before, image = e.readout.value, e.image.value
    e.controls["inference_tokens"].value = 1e14
    assert e.readout.value != before and e.image.value != image
    assert "tokens per parameter" in e.readout.value


def test_repetition_explorer_first_slider_changes_figure_and_readout():
    v = compute_repetition(4.0)
    assert v.worth > 0.9
    plot_repetition(v)
    e = RepetitionExplorer()
    before, image = e.readout.value, e.image.value
    e.controls["epochs"].value = 40.0
    assert e.readout.value != before and e.image.value != image
    assert math.isclose(e.result.ratio, effective_tokens(1.0, 40.0))
