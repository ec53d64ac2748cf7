"""No solution outside its tagged cell: not in another cell of any notebook, not anywhere in a student copy.

``find_leaks`` matches every line of every solution against every other cell,
up to names and sizes (see ``minitransformers/course/leaks.py`` for what
counts); the student copies are searched as JSON data, outputs and metadata
included, for every solution line as written.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from minitransformers.course import find_leaks, solution_lines, student_copy

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = {path.stem: nbformat.read(path, as_version=4) for path in sorted(NOTEBOOKS_DIR.glob("*.ipynb"))}

def _notebook(*cells: tuple[str, str, dict]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    for kind, source, metadata in cells:
        cell = nbformat.v4.new_code_cell(source) if kind == "code" else nbformat.v4.new_markdown_cell(source)
        cell.metadata.update(metadata)
        notebook.cells.append(cell)
    return notebook


SOLUTION = ("code", '''def my_attention_scores(q, k):
    """(b h t d), (b h s d) -> (b h t s)."""
    d = q.shape[-1]  # trivial: one operation, no pattern
    return einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.shape[-1])
''', {"tags": ["solution"], "exercise": "attention_scores"})


@pytest.mark.parametrize("kind, other", [
    # notebook 01's cell before Task 1, as it was: other names, the size as a number
    ("code", 'by_hand = einsum(q_try, k_try, "b h t d, b h s d -> b h t s") / math.sqrt(4)'),
    # notebook 07's "fix" cell, as it was: the same line, in a cell without the tag
    ("code", 'def attention_scores(q, k):\n'
             '    return einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.shape[-1])'),
    ("code", 'for q in qs:\n    print(1)\n    s = einsum(a, b, "b h t d, b h s d -> b h t s") / math.sqrt(len(a))'),
    ("markdown", 'Step 2 is `einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.size(-1))`.'),
    ("markdown", 'For example:\n```python\nx = einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(d)\n```'),
    # notebook 01's markdown above Task 1, as it was: sqrt without its module
    ("markdown", 'The library is exactly steps 1 and 2: `einsum(q, k, "b h t d, b h s d -> b h t s") / sqrt(d)`.'),
    ("markdown", "In one line: `einsum(q, k, ...) / sqrt(d)`."),  # the pattern left out, the rest given
    ("markdown", 'or `torch.einsum(q, k, "b h t d, b h s d -> b h t s") / torch.sqrt(d)`'),  # modules left out
])
def test_a_solution_line_is_found_in_another_cell_up_to_names_and_sizes(kind, other):
    leaks = find_leaks({"nb": _notebook(("code", "import math", {}), (kind, other, {}), SOLUTION)})
    assert [(leak.line.exercise, leak.cell_type) for leak in leaks] == [("attention_scores", kind)]
    assert "return einsum(q, k" in str(leaks[0]) and "nb, " in str(leaks[0])


@pytest.mark.parametrize("kind, other", [
    ("code", 'scores = einsum(q, k, "b h t d, b h s d -> b h t s")'),  # the scale left out: another line
    ("code", 'by_hand = einsum(q, k, "b h t d, b h s d -> b h t s") / 2.0 + 1'),
    ("code", "d = q.shape[-1]"),  # a trivial line of the solution: too common to give anything away
    ("markdown", "divide by $\\sqrt{d}$, `d = q.shape[-1]`"),
    ("markdown", "`einsum(...)` does it: see its docs"),  # an elision that gives nothing away
    ("markdown", "`sqrt(...) / einsum(q, k, ...)`"),  # another computation
])
def test_other_lines_trivial_lines_and_other_solution_cells_are_not_leaks(kind, other):
    assert find_leaks({"nb": _notebook((kind, other, {}), SOLUTION)}) == []
    other_solution = ("code", f"def f(q, k):\n    {other if kind == 'code' else 'pass'}\n",
                      {"tags": ["solution"], "exercise": "attention"})
    assert find_leaks({"nb": _notebook(other_solution, SOLUTION)}) == []


def test_solution_lines_skip_the_docstring_and_trivial_lines():
    lines = solution_lines(_notebook(SOLUTION))
    assert [line.text for line in lines] == [
        'return einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.shape[-1])']
    assert lines[0].code == 'einsum(q, k, "b h t d, b h s d -> b h t s") / math.sqrt(q.shape[-1])'
    assert lines[0].form == "einsum(_, _, 'b h t d, b h s d -> b h t s') / sqrt(_)"  # names, modules too


def test_no_line_of_any_solution_appears_in_another_cell_of_any_notebook():
    lines = [line for notebook in NOTEBOOKS.values() for line in solution_lines(notebook)]
    assert {line.exercise for line in lines} >= {"causal_mask", "attention_scores", "encoder_block", "mlm_masking"}
    leaks = find_leaks(NOTEBOOKS)
    assert not leaks, "solutions outside their tagged cells:\n" + "\n".join(map(str, leaks))


@pytest.mark.parametrize("name", [name for name, notebook in NOTEBOOKS.items() if solution_lines(notebook)])
def test_nothing_in_a_student_copy_gives_a_solution_of_any_notebook(name):
    """The student copy's markdown and code, searched for the teacher's solution lines, up to names and sizes."""
    copy = student_copy(NOTEBOOKS[name])
    leaks = find_leaks({name: copy}, solutions=NOTEBOOKS)
    assert not leaks, f"the student copy of {name} gives away solutions:\n" + "\n".join(map(str, leaks))


def test_the_student_copies_are_searched_with_the_teachers_solutions():
    teacher = _notebook(("markdown", "Steps 1 and 2: `einsum(q, k, ...) / sqrt(d)`", {}), SOLUTION)
    copy = student_copy(teacher)
    assert find_leaks({"nb": copy}) == []  # the copy's own solutions are stubs: nothing to find alone
    leaks = find_leaks({"nb": copy}, solutions={"nb": teacher})
    assert [(leak.cell_type, leak.line.exercise) for leak in leaks] == [("markdown", "attention_scores")]


def _strings(value) -> list[str]:
    """Every string in a notebook's JSON data: sources, outputs, metadata, keys and values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (key, *_strings(item))]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


# A demonstration notebook (04b) has no solution to leak.
@pytest.mark.parametrize("name", [name for name, notebook in NOTEBOOKS.items() if solution_lines(notebook)])
def test_a_student_copy_holds_no_line_of_any_solution_anywhere_in_its_json(name):
    teacher = nbformat.from_dict(NOTEBOOKS[name])  # a copy: the output below stays in this test
    first_code = next(cell for cell in teacher.cells if cell.cell_type == "code")
    # An output left in the teacher's notebook, here one that prints a solution, is cleared too.
    first_code.outputs = [nbformat.v4.new_output("stream", text=solution_lines(teacher)[0].text)]
    texts = _strings(nbformat.from_dict(student_copy(teacher)))
    found = [(line.exercise, line.text) for notebook in NOTEBOOKS.values() for line in solution_lines(notebook)
             if any(line.text in text for text in texts)]
    assert not found, f"the student copy of {name} holds solution code: {found}"
