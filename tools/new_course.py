"""Set up an nbgrader course directory from this repository's solutions/ (see docs/teaching.md).

    python tools/new_course.py ~/scalinglab-course [--course-id scalinglab] [--exchange /srv/nbgrader/exchange]

Writes DIR/nbgrader_config.py (sandboxed, fail-closed autograding) and
DIR/source/NN_topic/NN_topic.ipynb for every teacher notebook. An existing
config is left alone; source notebooks are refreshed.
"""

import sys
from pathlib import Path

from scalinglab.grading.course import main

if __name__ == "__main__":
    sys.exit(main(solutions=Path(__file__).resolve().parents[1] / "solutions"))
