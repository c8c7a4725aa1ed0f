"""Measure the run-to-run noise of lesson 07's trainer: the relative spread of the final loss over seeds.

    python tools/measure_challenge_noise.py             # about two minutes on 2 idle cores
    python tools/measure_challenge_noise.py --seeds 8   # more seeds per size

For a few (hidden width H, tokens D) pairs of lesson 07's miniseries, the MLP language model of
scalinglab.mlp_lm is trained with several seeds (the seed sets the training text, the initial
weights and the batch order; the held-out text is the same for every run). For each pair it prints
the mean held-out loss and the relative standard deviation std / mean (sample std, ddof = 1), then
the pooled relative std over all pairs. scalinglab.challenge sets its multiplicative noise
(NOISE_REL_STD) from this figure.
"""

import argparse
import math
import time

import numpy as np

from scalinglab.mlp_lm import train_mlp
from scalinglab.sweep import machine_description

PAIRS = ((32, 250_000), (64, 1_000_000), (128, 500_000), (512, 500_000))   # (H, D) from lesson 07's grid


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeds per (H, D) pair (default 6)")
    parser.add_argument("--exponent", type=float, default=1.5, help="Zipf exponent of the text (default 1.5)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    pooled = []
    print(f"{machine_description()}; Zipf exponent {args.exponent}; seeds 0..{args.seeds - 1}")
    print(f"{'H':>5} {'N':>7} {'D':>9} {'mean loss':>10} {'rel. std':>9}")
    for H, D in PAIRS:
        runs = [train_mlp(H, D, exponent=args.exponent, seed=s) for s in range(args.seeds)]
        loss = np.array([r.loss for r in runs])
        rel = loss.std(ddof=1) / loss.mean()
        pooled.append(np.log(loss) - np.log(loss).mean())
        print(f"{H:5d} {runs[0].n_params:7d} {D:9,d} {loss.mean():10.4f} {100 * rel:8.2f}%")
    residuals = np.concatenate(pooled)
    dof = residuals.size - len(pooled)
    print(f"pooled relative std (std of log loss around each pair's mean, {dof} degrees of freedom): "
          f"{100 * math.sqrt((residuals ** 2).sum() / dof):.2f}%  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
