"""Regenerate lesson 09's cached models and their scores in scalinglab/data/ with the project's own trainer.

    python tools/make_ability_models.py                 # about 25 s on one core
    python tools/make_ability_models.py --out /tmp/x    # somewhere else

Trains ten MLP language models (scalinglab.mlp_lm.train_mlp) on the Zipf language
(a = 1.5), H = 1, 2, 4, ..., 512 hidden units, each on 20 tokens per parameter
(at least 20,000 tokens), seed 0, and scores each on held-out text with
scalinglab.ability_explorers.string_metrics and word_completion. Writes

* ability_models.csv: one row per model (size, compute, loss, per-token accuracy,
  word-completion NLL and greedy accuracy);
* ability_strings.csv: exact match and edit-distance credit for L = 1-16 characters;
* ability_problems.csv: each word-completion problem's answer length, and its
  log-probability under the true language and under every model.

Every number is reproducible (all seeded); a ``source`` column names this command.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

from scalinglab.ability_explorers import string_metrics, word_completion
from scalinglab.mlp_lm import mlp_params, train_mlp
from scalinglab.sweep import machine_description

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
TOKENS_PER_PARAM = 20
MIN_TOKENS = 20_000


def n_tokens(hidden: int) -> int:
    """Training tokens of the model with ``hidden`` units: 20 per parameter, at least 20,000."""
    return max(TOKENS_PER_PARAM * mlp_params(hidden), MIN_TOKENS)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "scalinglab" / "data", help="directory for the CSV files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    source = f"python tools/make_ability_models.py (scalinglab.mlp_lm.train_mlp, seed 0; {machine_description()})"
    models, strings, problems = [], [], {}
    for H in HIDDEN:
        start = time.perf_counter()
        run = train_mlp(H, n_tokens(H), seed=0)
        s = string_metrics(run.model)
        w = word_completion(run.model)
        models.append(dict(hidden_units=H, n_params=run.n_params, n_tokens=run.n_tokens, flops=run.flops,
                           loss_nats=run.loss, per_token_accuracy=s.per_token_accuracy,
                           task_nll_nats_per_char=w.task_nll, task_accuracy=w.accuracy, source=source))
        strings += [dict(hidden_units=H, length_chars=int(L), exact_match=e, edit_credit=c, source=source)
                    for L, e, c in zip(s.lengths, s.exact_match, s.edit_credit)]
        problems.setdefault("word", list(w.words))
        problems.setdefault("answer_length_chars", [int(x) for x in w.answer_lengths])
        problems.setdefault("ideal_log_prob", [float(x) for x in w.ideal_log_prob])
        problems[f"log_prob_h{H}"] = [float(x) for x in w.log_prob]
        print(f"H = {H:3d}: N = {run.n_params:6,d}, loss {run.loss:.3f}, per-token accuracy "
              f"{s.per_token_accuracy:.3f}, word accuracy {w.accuracy:.3f} ({time.perf_counter() - start:.1f} s)",
              file=sys.stderr)
    problems["source"] = [source] * len(problems["word"])
    for name, rows in (("ability_models.csv", models), ("ability_strings.csv", strings),
                       ("ability_problems.csv", [dict(zip(problems, values)) for values in zip(*problems.values())])):
        with open(args.out / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        print(f"-> {args.out / name}", file=sys.stderr)


if __name__ == "__main__":
    main()
