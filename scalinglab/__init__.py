"""Scaling Lab: the formulas and reference tables of a course on how language models scale.

Everything a lesson or exercise uses is importable from here, for example
``from scalinglab import chinchilla_loss``. Each function documents its
units and the paper (with arXiv id) its numbers come from.
"""

from ._checks import ScalingLabError, UnknownNameError
from .abilities import (
    TwoStepFit, best_of_n_accuracy, best_of_n_ceiling, best_of_n_kl, exact_match, fit_two_step,
    overoptimization_gold_reward, pass_at_k, pass_at_k_unbiased, per_token_accuracy_needed, sigmoid_accuracy,
)
from .ability_models import load_ability_series, string_metrics, word_completion
from .beyond import (
    MUENNIGHOFF_FIT, R_STAR_PARAMS, R_STAR_TOKENS, SARDANA_FIT, InferenceOptimum, Recipe, RepeatedRuns, RStarFit,
    chinchilla_optimal_tokens, data_constrained_loss, deepseek_batch_size, deepseek_flops_per_token,
    deepseek_learning_rate, effective_params, effective_ratio, effective_tokens, equivalent_fresh_tokens, fit_r_star,
    inference_optimal, lifetime_flops, load_recipes, load_repeated_runs, tokens_for_loss,
)
from .challenge import Challenge, ChallengeScore, ChallengeTruth, RunHistory, challenge_truth, score_prediction
from .chinchilla import (
    CHINCHILLA_FITS,
    TOKENS_PER_PARAM,
    Allocation,
    ChinchillaFit,
    IsoFlopCurve,
    chinchilla_fit,
    chinchilla_loss,
    chinchilla_tokens,
    compute_optimal,
    compute_optimal_by_ratio,
    isoflop_curve,
)
from .environment import check_environment, environment_report
from .fitting import (
    HUBER_DELTA, Approach3Fit, ComputeOptimalFit, ConvergenceWarning, Projection, Runs, fit_approach1, fit_approach2,
    fit_chinchilla, hoffmann_grid, hoffmann_projections, load_runs,
)
from .flops import FlopCount, ParamCount, matmul_flops, training_flops, transformer_flops, transformer_params
from .hardware import PRECISIONS, Accelerator, accelerator, accelerators
from .kaplan import (
    KAPLAN, KaplanConstants, kaplan_compute_optimal, kaplan_loss, kaplan_min_tokens, kaplan_overfit_penalty,
)
from .memory import (
    OPTIMIZERS, RECOMPUTE, TRAINING_PRECISIONS, DecodeStep, Roofline, TrainingMemory, activation_memory, decode_time,
    kv_cache_bytes, pipeline_bubble, roofline, training_memory,
)
from .mlp_lm import MLPLanguageModel, TrainResult, mlp_flops, mlp_params, train_mlp
from .models import ModelCard, model_card, model_cards
from .powerlaw import PowerLawFit, fit_power_law, power_law
from .sweep import SweepTable, isoflop_sweep, load_sweep, measure_machine, quick_sweep, run_sweep
from .training import HIGHEST_REPORTED_MFU, TrainingEstimate, training_time
from .units import PF_DAY, SECONDS_PER_DAY, format_quantity, parse_quantity
from .zipf import zipf_entropy, zipf_lexicon, zipf_stream

__version__ = "0.1.0"

__all__ = [
    "Approach3Fit", "ComputeOptimalFit", "ConvergenceWarning", "HUBER_DELTA", "MLPLanguageModel", "Projection",
    "Runs", "SweepTable", "TrainResult", "fit_approach1", "fit_approach2", "fit_chinchilla", "hoffmann_grid",
    "hoffmann_projections", "isoflop_sweep", "load_runs", "load_sweep", "measure_machine", "mlp_flops",
    "mlp_params", "quick_sweep", "run_sweep", "train_mlp", "zipf_entropy", "zipf_lexicon", "zipf_stream",
    "Accelerator", "Allocation", "CHINCHILLA_FITS", "ChinchillaFit", "FlopCount", "HIGHEST_REPORTED_MFU",
    "IsoFlopCurve", "KAPLAN", "KaplanConstants", "ModelCard", "PF_DAY", "PRECISIONS", "ParamCount",
    "PowerLawFit", "SECONDS_PER_DAY", "ScalingLabError", "TOKENS_PER_PARAM", "TrainingEstimate",
    "UnknownNameError", "accelerator", "check_environment", "environment_report", "accelerators", "chinchilla_fit", "chinchilla_loss",
    "chinchilla_tokens", "compute_optimal", "compute_optimal_by_ratio", "fit_power_law", "format_quantity",
    "isoflop_curve", "kaplan_compute_optimal", "kaplan_loss", "kaplan_min_tokens", "kaplan_overfit_penalty", "matmul_flops", "model_card", "model_cards",
    "parse_quantity", "power_law", "training_flops", "training_time", "transformer_flops",
    "transformer_params",
    "DecodeStep", "OPTIMIZERS", "RECOMPUTE", "Roofline", "TRAINING_PRECISIONS", "TrainingMemory", "activation_memory",
    "decode_time", "kv_cache_bytes", "pipeline_bubble", "roofline", "training_memory",
    "MUENNIGHOFF_FIT", "R_STAR_PARAMS", "R_STAR_TOKENS", "SARDANA_FIT", "InferenceOptimum", "Recipe", "RepeatedRuns",
    "RStarFit", "chinchilla_optimal_tokens", "data_constrained_loss", "deepseek_batch_size", "deepseek_flops_per_token",
    "deepseek_learning_rate", "effective_params", "effective_ratio", "effective_tokens", "equivalent_fresh_tokens",
    "fit_r_star", "inference_optimal", "lifetime_flops", "load_recipes", "load_repeated_runs", "tokens_for_loss",
    "TwoStepFit", "best_of_n_accuracy", "best_of_n_ceiling", "best_of_n_kl", "exact_match", "fit_two_step",
    "overoptimization_gold_reward", "pass_at_k", "pass_at_k_unbiased", "per_token_accuracy_needed", "sigmoid_accuracy",
    "load_ability_series", "string_metrics", "word_completion",
    "Challenge", "ChallengeScore", "ChallengeTruth", "RunHistory", "challenge_truth", "score_prediction",
]
