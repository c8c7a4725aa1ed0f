"""Execute notebooks in place so that their stored outputs come from one clean run.

    python tools/run_notebooks.py notebooks/*.ipynb

Cells run top to bottom in a fresh kernel of the current Python; execution
counts are 1, 2, 3, ...; no timing metadata is written, so a re-run of an
unchanged notebook changes nothing that nbval compares.
"""

import argparse
import os
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def run(path: Path, timeout: int) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    env_backend = os.environ.pop("MPLBACKEND", None)  # notebooks use the inline backend
    for variable in ("SCALINGLAB_GRADING_STUDENT", "JUPYTERHUB_USER", "SCALINGLAB_STUDENT"):
        os.environ.pop(variable, None)   # stored solutions show the self-study variant
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if env_backend is not None:
            os.environ["MPLBACKEND"] = env_backend
    nb.metadata.pop("widgets", None) if not _uses_widgets(nb) else None
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nbformat.write(nb, path)


def _uses_widgets(nb) -> bool:
    return any("application/vnd.jupyter.widget-view+json" in o.get("data", {})
               for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=300, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"executing {path}", flush=True)
        run(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
