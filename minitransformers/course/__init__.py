"""Course tooling: student copies of the notebooks (solutions stubbed out) from the teacher's version."""

from .student_copies import SOLUTION_TAG, solution_cells, student_copy, stub_source, write_student_copies

__all__ = ["SOLUTION_TAG", "solution_cells", "student_copy", "stub_source", "write_student_copies"]
