"""Course tooling: student copies of the notebooks (solutions stubbed out) from the teacher's version,
the same notebooks in nbgrader's source format, the check that no solution shows outside its tagged cell,
and the plan a notebook follows (its sections and tasks, where Run All stops)."""

from .lab_plan import Task, first_stop_after_class, tasks
from .leaks import Leak, SolutionLine, find_leaks, solution_lines
from .nbgrader_format import nbgrader_source, write_nbgrader_sources
from .student_copies import SOLUTION_TAG, solution_cells, student_copy, stub_source, write_student_copies

__all__ = [
    "SOLUTION_TAG", "Leak", "SolutionLine", "Task", "find_leaks", "first_stop_after_class", "nbgrader_source",
    "solution_cells", "solution_lines", "student_copy", "stub_source", "tasks", "write_nbgrader_sources",
    "write_student_copies",
]
