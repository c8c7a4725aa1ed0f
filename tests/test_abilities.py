"""Lesson 09: pass@k, best-of-N with a verifier, exact match, over-optimisation, the two-step forecast,
the laptop models' abilities and the two explorers."""

import math
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalinglab import ScalingLabError
from scalinglab.abilities import (
    best_of_n_accuracy, best_of_n_ceiling, best_of_n_kl, exact_match, fit_two_step, overoptimization_gold_reward,
    pass_at_k, pass_at_k_unbiased, per_token_accuracy_needed, sigmoid_accuracy,
)
from scalinglab.ability_explorers import (
    METRICS, compute_emergence, compute_test_time, plot_emergence, plot_test_time,
)
from scalinglab.ability_models import (
    load_ability_series, string_metrics, word_completion,
)
from scalinglab.mlp_lm import train_mlp

probability = st.floats(0, 1)


# --- paper reproduction ---------------------------------------------------------------------------

def test_best_of_n_kl_reproduces_stiennon_2020_table_10():
    # Stiennon et al. 2020 (arXiv 2009.01325), Table 10: KL(BoN, sup) for N = 8, 63, 64, 128, 256, 512
    for n, kl in ((8, 1.2), (63, 3.2), (64, 3.2), (128, 3.9), (256, 4.5), (512, 5.2)):
        assert round(best_of_n_kl(n), 1) == kl


def test_codex_pass_at_100_is_far_below_the_independent_guess_chen_2021():
    # Chen et al. 2021 (arXiv 2107.03374), abstract: 28.8% with one sample, 70.2% with 100 per problem.
    # 28.8% on *every* problem would give almost 100%: problems differ in difficulty.
    assert pass_at_k(0.288, 1) == pytest.approx(0.288)
    assert pass_at_k(0.288, 100) > 0.9999 > 0.702


def test_unbiased_estimator_is_chen_2021_eq_1_exactly():
    for n, c, k in ((200, 57, 10), (200, 3, 100), (50, 0, 5), (20, 19, 2), (7, 3, 7)):
        want = 1 - comb(n - c, k) / comb(n, k)
        assert pass_at_k_unbiased(n, c, k) == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_unbiased_estimator_is_unbiased_by_enumeration():
    # E over c ~ Binomial(n, p) of the estimator equals 1 - (1 - p)^k
    n, k, p = 12, 4, 0.3
    expected = sum(comb(n, c) * p ** c * (1 - p) ** (n - c) * pass_at_k_unbiased(n, c, k) for c in range(n + 1))
    assert expected == pytest.approx(pass_at_k(p, k), rel=1e-12)


# --- properties -----------------------------------------------------------------------------------

@given(probability, st.integers(1, 50))
def test_exact_match_is_p_to_the_l_and_its_inverse(p, L):
    assert exact_match(p, L) == pytest.approx(p ** L)
    q = exact_match(p, L)
    if q > 1e-12:
        assert per_token_accuracy_needed(q, L) == pytest.approx(p, rel=1e-9)


@given(probability, st.integers(1, 200), probability, probability)
@settings(max_examples=200)
def test_best_of_n_limits_and_bounds(p, n, tpr, fpr):
    acc = best_of_n_accuracy(p, n, tpr, fpr)
    assert 0 <= acc <= 1
    assert best_of_n_accuracy(p, 1, tpr, fpr) == pytest.approx(p, abs=1e-12)
    assert best_of_n_accuracy(p, n) == pytest.approx(pass_at_k(p, n), abs=1e-12)


@given(st.floats(0.01, 0.99), st.floats(0.5, 1.0), st.floats(0.0, 0.5))
def test_best_of_n_tends_to_the_verifiers_precision(p, tpr, fpr):
    assert best_of_n_accuracy(p, 100_000, tpr, fpr) == pytest.approx(best_of_n_ceiling(p, tpr, fpr), abs=1e-6)


def test_best_of_n_agrees_with_a_simulation():
    rng = np.random.default_rng(0)
    p, n, tpr, fpr, trials = 0.3, 5, 0.8, 0.2, 200_000
    right = rng.random((trials, n)) < p
    accepted = np.where(right, rng.random((trials, n)) < tpr, rng.random((trials, n)) < fpr)
    # a uniformly random accepted sample, else sample 0 (all rejected: any one is as good)
    keys = np.where(accepted, rng.random((trials, n)), -1.0)
    pick = np.where(accepted.any(axis=1), keys.argmax(axis=1), 0)
    simulated = right[np.arange(trials), pick].mean()
    assert simulated == pytest.approx(best_of_n_accuracy(p, n, tpr, fpr), abs=4e-3)


def test_gold_reward_peaks_where_gao_2022_forms_say():
    a, b = 1.0, 0.25
    d = np.linspace(0.01, 6, 2000)
    bon = overoptimization_gold_reward(d ** 2, a, b, "bon")
    rl = overoptimization_gold_reward(d ** 2, a, b, "rl")
    assert d[np.argmax(bon)] == pytest.approx(a / (2 * b), abs=0.01)
    assert d[np.argmax(rl)] == pytest.approx(math.exp(a / b - 1), rel=0.01) or math.exp(a / b - 1) > 6
    assert overoptimization_gold_reward(0.0, a, b, "rl") == 0.0


def test_two_step_fit_recovers_a_known_forecast():
    flops = np.logspace(18, 24, 7)
    nll = np.exp(2.0 - 0.15 * np.log10(flops))
    acc = sigmoid_accuracy(nll, 0.1, 30.0, chance=0.25)
    fit = fit_two_step(flops, nll, acc, chance=0.25)
    assert fit.slope_per_decade == pytest.approx(-0.15)
    assert fit.predict(1e26) == pytest.approx(sigmoid_accuracy(np.exp(2.0 - 3.9), 0.1, 30.0, 0.25), rel=1e-4)


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call", [
    lambda: pass_at_k(1.5, 3), lambda: pass_at_k(0.5, 0), lambda: pass_at_k(float("nan"), 2),
    lambda: pass_at_k_unbiased(10, 11, 1), lambda: pass_at_k_unbiased(10, 3, 11), lambda: pass_at_k_unbiased(10, -1, 1),
    lambda: best_of_n_accuracy(0.5, 10, tpr=2), lambda: exact_match("x", 3), lambda: best_of_n_kl(0),
    lambda: overoptimization_gold_reward(1.0, 1.0, 0.1, method="ppo"), lambda: sigmoid_accuracy(1.0, 1.0, -1.0),
    lambda: fit_two_step([1e20], [1.0], [0.5]), lambda: compute_emergence(0), lambda: compute_emergence(4, "bleu"),
    lambda: compute_test_time(-1.0), lambda: string_metrics("model"),
])
def test_bad_input_names_the_argument(call):
    with pytest.raises(ScalingLabError):
        call()


def test_a_percentage_gets_a_hint():
    with pytest.raises(ScalingLabError, match="not a percentage"):
        pass_at_k(28.8, 10)


# --- the laptop models ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_model():
    return train_mlp(16, 40_000, eval_tokens=4096)


def test_string_metrics_exact_match_falls_with_length_and_matches_teacher_forcing(small_model):
    s = string_metrics(small_model, max_length=8, n_windows=400)
    assert np.all(np.diff(s.exact_match) <= 0)
    assert s.exact_match[0] == pytest.approx(s.per_token_accuracy, abs=0.06)   # L = 1 is one prediction
    assert np.all((0 <= s.edit_credit) & (s.edit_credit <= 1))
    assert np.all(s.edit_credit >= s.exact_match - 1e-12)       # an exact match has full credit


def test_word_completion_is_bounded_by_the_true_language(small_model):
    w = word_completion(small_model, n_problems=200)
    assert set(w.answer_lengths) <= set(range(1, 7))
    assert np.all(w.log_prob <= 0) and np.all(w.ideal_log_prob <= 0)
    # cross-entropy against the truth is at least the truth's own entropy, on average over problems
    assert -w.log_prob.mean() >= -w.ideal_log_prob.mean() - 0.05


def test_cached_series_is_what_the_trainer_makes():
    s = load_ability_series()
    assert list(s.hidden) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    assert np.all(np.diff(s.loss) < 0) and np.all(np.diff(s.per_token_accuracy) > 0)
    run = train_mlp(4, int(s.n_tokens[2]), seed=0)                # the H = 4 model again: seconds
    assert run.loss == pytest.approx(s.loss[2], abs=2e-3)


# --- explorers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", METRICS)
def test_emergence_view_and_plot(metric):
    v = compute_emergence(8, metric)
    assert v.score.shape == v.n_params.shape
    plot = plot_emergence(v)
    plot.update(compute_emergence(3, metric))


def test_exact_match_rises_later_for_longer_answers():
    assert compute_emergence(16).first_above(0.1) >= compute_emergence(2).first_above(0.1)


def test_test_time_view_counts_samples_and_plots():
    v = compute_test_time(1e6, 0.0)
    s = load_ability_series()
    assert np.all(v.samples == np.floor(1e6 / (2 * s.n_params * s.answer_lengths.mean())))
    perfect, sloppy = compute_test_time(1e7, 0.0), compute_test_time(1e7, 0.3)
    assert np.all(perfect.accuracy >= sloppy.accuracy - 1e-12)
    plot_test_time(v).update(compute_test_time(1e4, 0.2))


def test_explorers_change_figure_and_readout_on_their_first_control():
    from scalinglab.ability_explorers import EmergenceExplorer, InferenceComputeExplorer
    for explorer, first, value in ((EmergenceExplorer(), "length", 12), (InferenceComputeExplorer(), "budget_flops", 1e5)):
        png, text = explorer.image.value, explorer.readout.value
        explorer.controls[first].value = value
        assert explorer.image.value != png and explorer.readout.value != text
