"""Course tooling: student copies of the notebooks (solutions stubbed out) from the teacher's version,
and the check that no solution shows outside its tagged cell."""

from .leaks import Leak, SolutionLine, find_leaks, solution_lines
from .student_copies import SOLUTION_TAG, solution_cells, student_copy, stub_source, write_student_copies

__all__ = [
    "SOLUTION_TAG", "Leak", "SolutionLine", "find_leaks", "solution_cells", "solution_lines", "student_copy",
    "stub_source", "write_student_copies",
]
