"""The grading wing: checks with instant feedback, the questions, and trusted autograding.

* :mod:`.checks` -- ``checker()`` and ``check("q1")`` for learners, the helpers public tests use;
* :mod:`.questions` -- the public tests of every exercise set, one module each;
* :mod:`.variants` -- every student's own inputs (``V``), from their identity;
* :mod:`.protocol`, :mod:`.runner`, :mod:`.sandbox` -- a submission's code runs in a bubblewrap
  sandbox, and its answers leave that process only as data;
* :mod:`.engine` -- grades a notebook from outside the submission's process (fail closed);
* :mod:`.nbgrader_plugins` -- plugs the engine into nbgrader's own commands;
* :mod:`.course` and :mod:`.cli` -- course setup, ``scalinglab grade`` and ``scalinglab start``.

Exercise notebooks import from here: ``from scalinglab.grading import checker``.
"""

from .checks import (CheckFailed, NotAnswered, Question, WrongAnswer, checker, expect_choice, expect_close,
                     expect_exact, expect_explorer, expect_number, expect_recorded, round_sig, run_check)
from .variants import Variant, student_identity, variant

__all__ = ["CheckFailed", "NotAnswered", "Question", "Variant", "WrongAnswer", "checker", "expect_choice",
           "expect_close", "expect_exact", "expect_explorer", "expect_number", "expect_recorded", "round_sig",
           "run_check", "student_identity", "variant"]
