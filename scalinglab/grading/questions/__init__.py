"""The public tests of the graded exercises: one module per exercise notebook.

Module ``qNN_topic.py`` defines ``EXERCISE = "NN_topic"`` and ``QUESTIONS``, a
dict of :class:`~scalinglab.grading.Question` by key ("q1", "q2", ...). Each
test receives the learner's answer variables and raises
:class:`~scalinglab.grading.WrongAnswer` with what is wrong -- never the
answer. A module with ``make_variant(rng)`` gives every student their own
inputs; its tests then take the variant first: ``test(V, *answers)``. The notebooks are ``solutions/NN_topic.ipynb`` (teacher sources, with
hidden tests) and ``exercises/NN_topic.ipynb`` (student copies).
"""

from importlib import import_module
from pkgutil import iter_modules

EXERCISES, VARIANTS = {}, {}
for _info in iter_modules(__path__):
    if _info.name.startswith("q"):
        _module = import_module(f"{__name__}.{_info.name}")
        EXERCISES[_module.EXERCISE] = _module.QUESTIONS
        if hasattr(_module, "make_variant"):      # per-student inputs (scalinglab.grading.variants)
            VARIANTS[_module.EXERCISE] = _module.make_variant
EXERCISES = dict(sorted(EXERCISES.items()))
