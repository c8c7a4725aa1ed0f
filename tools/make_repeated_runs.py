"""Regenerate scalinglab/data/repeated_runs.csv: fresh-data and repeated-data runs of the laptop trainer.

    python tools/make_repeated_runs.py                 # about a minute on 2 idle cores
    python tools/make_repeated_runs.py --out /tmp      # somewhere else

For each width H (32, 64, 128 hidden units) and each pool of U unique tokens (10k, 25k), the MLP
language model of scalinglab.mlp_lm is trained for 1, 2, 4, 8 and 16 epochs over the same U tokens
(D = epochs x U tokens, reshuffled every epoch), and once on D fresh tokens for every D > U. Lesson 08
reads the effective data D' of each repeated run off the fresh-data curve and fits Muennighoff et al.'s
R* (arXiv 2305.16264). Every run is seeded (seed 0); losses are held out, in nats per character.
"""

import argparse
import csv
import sys
import time
from pathlib import Path

from scalinglab.mlp_lm import train_mlp
from scalinglab.sweep import machine_description

ROOT = Path(__file__).resolve().parents[1]
WIDTHS = (32, 64, 128)
UNIQUE = (10_000, 25_000)
EPOCHS = (1, 2, 4, 8, 16)
COLUMNS = ("name", "hidden_units", "n_params", "n_tokens", "unique_tokens", "epochs", "loss_nats",
           "train_loss_nats", "source")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "scalinglab" / "data", help="directory for the CSV file")
    args = parser.parse_args(argv)
    source = f"python tools/make_repeated_runs.py (scalinglab.mlp_lm.train_mlp, seed 0; {machine_description()})"
    start = time.perf_counter()
    rows = []
    for H in WIDTHS:
        for U in UNIQUE:
            for e in EPOCHS:
                D = e * U
                runs = [("repeated", train_mlp(H, D, unique_tokens=U))]
                if e > 1:
                    runs.append(("fresh", train_mlp(H, D)))
                for kind, r in runs:
                    rows.append({"name": f"H{H}-U{U}-x{e}-{kind}", "hidden_units": H, "n_params": r.n_params,
                                 "n_tokens": D, "unique_tokens": r.unique_tokens, "epochs": r.epochs,
                                 "loss_nats": r.loss, "train_loss_nats": r.train_loss, "source": source})
            print(f"H = {H}, U = {U:,}: done at {time.perf_counter() - start:.0f} s", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "repeated_runs.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{len(rows)} runs in {time.perf_counter() - start:.0f} s -> {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
