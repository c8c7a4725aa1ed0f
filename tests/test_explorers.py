"""Explorers: the pure compute functions, and each widget driven by setting control values."""

import numpy as np
import pytest

from scalinglab import compute_optimal, kaplan_loss, training_time, transformer_params
from scalinglab.explorers import (
    compute_isoflop, compute_kaplan, compute_power_law, compute_training_run, compute_transformer,
)
from scalinglab.widgets import (
    IsoFlopExplorer, KaplanExplorer, PowerLawExplorer, SelfCheck, TrainingCalculator, TransformerExplorer, quiz,
    widget_check,
)


# --- compute functions ----------------------------------------------------------------------------

def test_compute_power_law():
    v = compute_power_law(10, -0.5)
    np.testing.assert_allclose(v.y, 10 * v.x ** -0.5)
    assert v.doubling_factor == pytest.approx(2 ** -0.5)
    assert v.halving_multiplier == pytest.approx(4.0)       # y ∝ x^-1/2: 4x the x halves y
    assert compute_power_law(1, -0.05).halving_multiplier == pytest.approx(2 ** 20)
    assert compute_power_law(1, 0.5).halving_multiplier == float("inf")


def test_compute_kaplan():
    v = compute_kaplan(1e9, 1e10)
    assert v.loss == pytest.approx(kaplan_loss(n_params=1e9, n_tokens=1e10))
    assert v.overfit_penalty > 0
    assert compute_kaplan(1e9, 1e12).overfit_penalty < v.overfit_penalty
    assert compute_kaplan(1e11, 1e10).overfit_penalty > v.overfit_penalty   # bigger models need more data


def test_compute_isoflop():
    v = compute_isoflop(5.76e23, 280e9, "hoffmann2022")
    n_opt, d_opt = compute_optimal(5.76e23)
    assert (v.optimal_n_params, v.optimal_n_tokens) == (pytest.approx(n_opt), pytest.approx(d_opt))
    assert v.n_tokens == pytest.approx(5.76e23 / (6 * 280e9))
    assert v.excess_loss > 0
    at_opt = compute_isoflop(5.76e23, n_opt, "hoffmann2022")
    assert at_opt.excess_loss == pytest.approx(0, abs=1e-12)
    assert v.loss_curve.min() >= v.optimal_loss - 1e-12


def test_compute_transformer():
    v = compute_transformer(12, 768, 1024, 50257)
    assert v.params.total == transformer_params(12, 768, 50257, 1024).total == 124_439_808
    assert sum(v.flop_shares().values()) == pytest.approx(1.0)
    long_context = compute_transformer(12, 768, 32768, 50257).flop_shares()
    assert long_context["attention over context"] > 0.5 > v.flop_shares()["attention over context"]


def test_compute_training_run():
    v = compute_training_run(65.2e9, 1.4e12, "A100", 2048, 0.4, price_per_device_hour=2.0)
    ref = training_time(6 * 65.2e9 * 1.4e12, "A100", 2048, 0.4, price_per_device_hour=2.0)
    assert v.estimate.days == pytest.approx(ref.days)
    i = int(np.argmin(abs(v.mfu_grid - 0.2)))
    assert v.days_curve[i] == pytest.approx(ref.days * 0.4 / v.mfu_grid[i])


# --- widgets, driven by setting .value ------------------------------------------------------------

def _moves(explorer, name, value):
    before_png, before_text = explorer.image.value, explorer.readout.value
    explorer.controls[name].value = value
    assert explorer.image.value != before_png, f"{type(explorer).__name__}: the figure did not change"
    assert explorer.readout.value != before_text, f"{type(explorer).__name__}: the numbers did not change"


def test_power_law_explorer():
    e = PowerLawExplorer()
    _moves(e, "exponent", -1.0)
    assert e.result.exponent == -1.0
    assert "0.500" in e.readout.value      # 2^-1
    _moves(e, "coefficient", 3.0)


def test_kaplan_explorer():
    e = KaplanExplorer()
    _moves(e, "n_tokens", 1e12)
    assert e.result.n_tokens == 1e12
    _moves(e, "n_params", 1e11)
    assert f"{e.result.loss:.3f}" in e.readout.value


def test_isoflop_explorer_marker_and_budget():
    e = IsoFlopExplorer()
    _moves(e, "n_params", 70e9)
    assert "70B parameters" in e.readout.value
    _moves(e, "flops", 1e22)
    assert e.result.flops == 1e22
    n_opt = e.result.optimal_n_params
    e.controls["n_params"].value = n_opt
    assert e.result.excess_loss == pytest.approx(0, abs=1e-9)


def test_isoflop_explorer_fit_change_redraws_background():
    e = IsoFlopExplorer()
    _moves(e, "fit", "besiroglu2024")
    assert e.result.fit == "besiroglu2024"
    assert "18." in e.readout.value        # ~18 tokens per parameter at the Gopher budget


def test_transformer_explorer_and_presets():
    e = TransformerExplorer()
    assert "124,439,808" in e.readout.value
    _moves(e, "n_layer", 24)
    assert e.preset.value == "custom"
    e.preset.value = "GPT-3 175B"
    assert e.values() == {"n_layer": 96, "d_model": 12288, "n_ctx": 2048, "n_vocab": 50257}
    assert e.preset.value == "GPT-3 175B"
    _moves(e, "n_ctx", 65536)


def test_training_calculator():
    e = TrainingCalculator()
    _moves(e, "mfu", 0.2)
    assert e.result.estimate.mfu == 0.2
    _moves(e, "n_devices", 4096)
    e.preset.value = "GPT-4"
    assert e.controls["n_params"].value == 280e9 and e.controls["n_devices"].value == 25_000
    assert e.controls["precision"].value == "bf16" and e.controls["mfu"].value == 0.34
    _moves(e, "sparse", True)
    assert "2:4-sparse" in e.readout.value


def test_training_calculator_shows_bad_settings_as_a_message():
    e = TrainingCalculator()
    days = e.result.estimate.days
    e.controls["accelerator"].value = "V100 SXM2 32GB"          # no bf16 on a V100
    assert "no published dense bf16 peak" in e.readout.value
    assert e.result.estimate.days == days                       # the last good result stays
    e.controls["precision"].value = "fp16"
    assert "days" in e.readout.value and e.result.estimate.accelerator == "V100 SXM2 32GB"


def test_explorers_display_as_widgets():
    bundle = IsoFlopExplorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


# --- self-checks ----------------------------------------------------------------------------------

def test_multiple_choice_self_check():
    q = SelfCheck("Which?", answer="b", options=["a", "b"], explanation="because", hint="think")
    assert q.check() is None and "Not answered yet" in q.feedback.value
    q.input.value = "a"
    assert q.check() is False and "think" in q.feedback.value and "because" not in q.feedback.value
    q.input.value = "b"
    assert q.check() is True and "because" in q.feedback.value


def test_numeric_self_check_accepts_quantities():
    q = SelfCheck("Tokens for 70B?", answer=1.4e12, hint="20 per parameter")
    for text, ok in [("1.4T", True), ("1.45e12", True), ("2T", False), ("lots", False), ("  ", None)]:
        q.input.value = text
        assert q.check() is ok


def test_quiz_box():
    box = quiz(SelfCheck("x?", answer=1.0), SelfCheck("y?", answer="a", options=["a", "b"]))
    assert len(box.children) == 2


def test_self_check_answer_must_be_an_option():
    with pytest.raises(ValueError, match="answer must be one of the options"):
        SelfCheck("?", answer="c", options=["a", "b"])


def test_widget_check_follows_its_slider():
    box = widget_check()
    slider, echo = box.children
    slider.value = 7
    assert "<b>7</b>" in echo.value


def test_numeric_self_check_accepts_negative_answers():
    q = SelfCheck("Slope?", answer=-0.076, rel_tol=0.02)
    q.input.value = "-0.076"
    assert q.check() is True
    q.input.value = "0.076"
    assert q.check() is False


def test_training_calculator_reproduces_the_98_days_from_a_preset():
    e = TrainingCalculator()
    e.preset.value = "GPT-4, the 98-day assumptions"
    assert e.result.estimate.days == pytest.approx(98.4, abs=0.1)
    assert e.preset.value == "GPT-4, the 98-day assumptions"


def test_a_preset_given_at_construction_applies_every_setting():
    e = TrainingCalculator(preset="GPT-4, the 98-day assumptions")
    assert e.controls["sparse"].value is True and e.controls["mfu"].value == 1.0
    assert e.result.estimate.days == pytest.approx(98.4, abs=0.1)


def test_presets_reset_every_setting():
    e = TrainingCalculator()
    e.set(precision="fp32", sparse=True, mfu=0.9)
    e.set(preset="Llama 3.1 405B")
    assert e.values()["precision"] == "bf16" and e.values()["sparse"] is False
    assert 0.38 <= e.values()["mfu"] <= 0.43
    assert 60 < e.result.estimate.days < 75


def test_set_refuses_out_of_range_and_unknown_options():
    e = TrainingCalculator()
    with pytest.raises(ValueError, match=r"mfu = 0 is outside this explorer's range \[0.05, 1\]"):
        e.set(mfu=0)
    with pytest.raises(ValueError, match="did you mean 'H100 SXM5'"):
        e.set(accelerator="H100 SXM")
    i = IsoFlopExplorer()
    with pytest.raises(ValueError, match="outside this explorer's range"):
        i.set(flops=1e40)
    with pytest.raises(ValueError, match="unknown control"):
        i.set(tokens=1e9)


def test_power_law_linear_panel_follows_the_curve():
    e = PowerLawExplorer(coefficient=10.0, exponent=-0.5)
    axes = e.figure.plot.linear_axes
    assert axes.get_ylim()[1] == 10
    e.set(exponent=1.0)                       # 10 x up to 10,000: the panel grows to keep the curve
    assert axes.get_ylim()[1] == 1e4
    e.set(exponent=-1.0)
    assert axes.get_ylim()[1] == 10


def test_refit_explorer_refits_on_the_chosen_budgets():
    from scalinglab.fit_explorers import compute_refit
    from scalinglab.widgets import RefitExplorer
    full = compute_refit(1e18, 1e21)
    assert full.included.all() and full.fit is not None
    e = RefitExplorer()
    budgets = [v for _, v in e.controls["min_flops"].options]
    _moves(e, "min_flops", budgets[4])
    assert e.result.included.sum() < full.included.sum()
    assert e.result.fit.E != full.fit.E
    e.set(min_flops=budgets[-1], max_flops=budgets[-1])       # one budget cannot pin down a law
    assert "alpha" in e.readout.value or "size" in e.readout.value or "runs" in e.readout.value


def test_miniseries_explorer_compares_fitted_and_exact_entropy():
    from scalinglab import zipf_entropy
    from scalinglab.widgets import MiniseriesExplorer
    e = MiniseriesExplorer()
    assert e.result.exact_entropy == pytest.approx(zipf_entropy(1.5))
    _moves(e, "exponent", 2.0)
    assert e.result.exponent == 2.0 and abs(e.result.entropy_error) < 0.05


def test_settings_line_can_be_pasted_back_for_selection_sliders():
    from scalinglab.widgets import RefitExplorer
    e = RefitExplorer()
    e.set(min_flops=e.controls["min_flops"].options[3][1])
    line = e.settings("e")
    fresh = RefitExplorer()
    exec(line.replace("e.set(", "fresh.set("), {"fresh": fresh})
    assert fresh.values() == e.values()


@pytest.mark.parametrize("cls, control, pick", [("RefitExplorer", "min_flops", 3), ("MiniseriesExplorer", "exponent", 0)])
def test_fitting_explorers_answer_at_once_then_show_the_full_fit(cls, control, pick):
    """A hand move shows a quick refit from earlier optima at once, then exactly fit_chinchilla's 4,500-start fit."""
    import time

    import scalinglab.widgets as sw
    from scalinglab import fit_chinchilla
    from scalinglab.fit_explorers import _FULL_FITS
    e = getattr(sw, cls)()
    options = [o[1] if isinstance(o, tuple) else o for o in e.controls[control].options]
    _FULL_FITS.clear()                                  # nothing cached: the move must take the quick path
    start = time.perf_counter()
    e.controls[control].value = options[pick]           # as a hand on the slider or dropdown does
    quick_seconds = time.perf_counter() - start
    quick = e.result
    assert quick.provisional and "refining" in e.figure.plot.figure.axes[0].get_title()
    assert quick_seconds < 0.15, f"a move took {quick_seconds:.3f} s"
    e.wait()
    final = e.result
    assert not final.provisional and "refining" not in e.figure.plot.figure.axes[0].get_title()
    if cls == "RefitExplorer":
        runs = final.runs
        N, D, L = runs.n_params[final.included], runs.n_tokens[final.included], runs.loss[final.included]
    else:
        N, D, L = final.table["n_params"], final.table["n_tokens"], final.table["loss"]
    reference = fit_chinchilla(N, D, L, progress=False)
    for key in ("E", "A", "B", "alpha", "beta"):
        assert getattr(final.fit, key) == getattr(reference, key)
        assert getattr(quick.fit, key) == pytest.approx(getattr(reference, key), rel=1e-3)


def test_set_gives_the_full_fit_at_once():
    from scalinglab.fit_explorers import _FULL_FITS
    from scalinglab.widgets import RefitExplorer
    e = RefitExplorer()
    _FULL_FITS.clear()
    e.set(min_flops=e.controls["min_flops"].options[2][1])
    assert not e.result.provisional and e._worker is None
