"""Solutions outside their tagged cells: find every line of a solution that another cell also holds.

The student copies stub out the cells tagged ``solution``; a line of a solution
that another cell holds too would reach the students. What counts:

- A *solution line* is one simple statement (an assignment, a ``return``, an
  expression) in the body of a function of a solution cell. The ``def`` line,
  the docstring, imports, comments and blank lines are not solution lines.
- A line is *trivial*, and skipped, when what it computes is too common to give
  anything away: no string constant (an einsum or rearrange pattern) and at
  most one operation (a call, an operator, a comparison, an indexing; counted
  up to sizes, so ``-1`` is no operation), such as ``return output, weights``
  or ``weights = torch.softmax(scores, dim=-1)``.
- Two lines are *the same* when what they compute is written alike up to names
  and sizes: ``by_hand = einsum(q_try, k_try, "b h t d, b h s d -> b h t s") /
  math.sqrt(4)`` is the same line as ``return einsum(q, k, "b h t d, b h s d ->
  b h t s") / math.sqrt(q.shape[-1])``. Variables are renamed to ``_``, and a
  number, ``x.shape[i]``, ``x.size(i)`` or ``len(x)`` is a size ``_``; a function
  is its name, whatever its module (``math.sqrt``, ``torch.sqrt`` and ``sqrt``).
- An *elision* ``...`` stands for any argument: ``einsum(q, k, ...) / sqrt(d)``
  gives the line away as well, unless what is left is trivial (``einsum(...)``).
- A line *appears* in a cell that is not a solution cell when one of that
  cell's statements is the same: any statement of a code cell, or of an inline
  code span or code block of a markdown cell. Other solution cells do not count:
  they are stubbed out too.

``find_leaks(copies, solutions=teachers)`` searches the student copies (their
markdown above every task included) for the teacher's solution lines.
"""

from __future__ import annotations

import ast
import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import nbformat

from .student_copies import SOLUTION_TAG

_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr)
_OPERATIONS = (ast.Call, ast.BinOp, ast.UnaryOp, ast.Compare, ast.BoolOp, ast.Subscript)
_SIZE = "_"


@dataclass(frozen=True)
class SolutionLine:
    """One non-trivial line of a solution: its exercise, its text as written, and its form up to names and sizes.

    ``code`` is what the line computes as written (the right-hand side, or what it returns).
    """

    exercise: str
    text: str
    code: str
    form: str


@dataclass(frozen=True)
class Leak:
    """A solution line that a cell outside the solution cells holds too."""

    line: SolutionLine
    notebook: str
    cell_id: str
    cell_type: str

    def __str__(self) -> str:
        return (f"{self.notebook}, {self.cell_type} cell {self.cell_id!r}, holds a line of the solution of "
                f"{self.line.exercise!r}: {self.line.text}")


class _Form(ast.NodeTransformer):
    """Rewrite an expression up to names and sizes: variables -> ``_``, sizes -> ``_``."""

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name(_SIZE)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        is_number = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        return ast.Name(_SIZE) if is_number else node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        if node.attr in ("shape", "ndim"):
            return ast.Name(_SIZE)
        return self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        function = node.func
        if isinstance(function, ast.Name) and function.id == "len":
            return ast.Name(_SIZE)
        if isinstance(function, ast.Attribute) and function.attr == "size" and len(node.args) <= 1:
            return ast.Name(_SIZE)
        if isinstance(function, ast.Attribute) and isinstance(function.value, ast.Name):
            node.func = function = ast.Name(function.attr)  # math.sqrt, torch.sqrt, sqrt: one function
        if isinstance(function, ast.Name):  # a called name is a function (einsum, rearrange): keep it
            node.args = [self.visit(argument) for argument in node.args]
            node.keywords = [self.visit(keyword) for keyword in node.keywords]
            return node
        return self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if _is_size(node.value) and _is_size(node.slice):  # x.shape[-1] -> _.shape -> _ , then [_] -> _
            return ast.Name(_SIZE)
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        return node.operand if isinstance(node.op, ast.USub) and _is_size(node.operand) else node


def _is_size(node: ast.AST) -> bool:
    return isinstance(node, ast.Name) and node.id == _SIZE


def _form(expression: ast.expr) -> str:
    return ast.unparse(_Form().visit(copy.deepcopy(expression)))


def _is_trivial(expression: ast.expr) -> bool:
    form = _Form().visit(copy.deepcopy(expression))
    has_pattern = any(isinstance(node, ast.Constant) and isinstance(node.value, str) for node in ast.walk(form))
    operations = sum(isinstance(node, _OPERATIONS) for node in ast.walk(form))
    return not has_pattern and operations < 2


def _statements(tree: ast.AST) -> Iterator[ast.stmt]:
    return (node for node in ast.walk(tree) if isinstance(node, _SIMPLE) and node.value is not None)


def is_solution_cell(cell: nbformat.NotebookNode) -> bool:
    return cell.cell_type == "code" and SOLUTION_TAG in cell.metadata.get("tags", [])


def solution_lines(notebook: nbformat.NotebookNode) -> list[SolutionLine]:
    """The non-trivial lines of every solution cell of ``notebook``, in order."""
    lines = []
    for cell in filter(is_solution_cell, notebook.cells):
        tree = ast.parse(cell.source)
        for function in tree.body:
            if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            body = function.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
                body = body[1:]  # the docstring stays in the student copy: it is the task's statement
            for statement in (s for node in body for s in _statements(node)):
                if not _is_trivial(statement.value):
                    text = ast.get_source_segment(cell.source, statement) or ast.unparse(statement)
                    code = ast.get_source_segment(cell.source, statement.value) or ast.unparse(statement.value)
                    lines.append(SolutionLine(cell.metadata.get("exercise", "?"), text, code, _form(statement.value)))
    return lines


def _code_in(cell: nbformat.NotebookNode) -> list[str]:
    """The code a cell shows: a code cell's source (without IPython magics), a markdown cell's code spans."""
    if cell.cell_type == "code":
        return ["\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))]
    if cell.cell_type == "markdown":
        blocks = re.findall(r"```[a-z]*\n(.*?)```", cell.source, flags=re.DOTALL)
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", cell.source, flags=re.DOTALL))
        return blocks + spans
    return []


def _has_elision(expression: ast.expr) -> bool:
    return any(isinstance(node, ast.Constant) and node.value is Ellipsis for node in ast.walk(expression))


def _forms_in(cell: nbformat.NotebookNode) -> set[str]:
    """The forms of a cell's statements; one with an elision becomes a pattern ``re:...`` where ``...`` is anything."""
    forms = set()
    for code in _code_in(cell):
        try:
            tree = ast.parse(code)
        except SyntaxError:  # prose in backticks, or a fragment that is not Python
            continue
        for statement in _statements(tree):
            form = _form(statement.value)
            if _has_elision(statement.value):
                if _is_trivial(statement.value):
                    continue  # einsum(...): names the function, gives nothing away
                form = "re:" + re.escape(form).replace(re.escape("..."), ".+?")
            forms.add(form)
    return forms


def _appears(line: SolutionLine, forms: set[str]) -> bool:
    return line.form in forms or any(form.startswith("re:") and re.fullmatch(form[3:], line.form) for form in forms)


def find_leaks(notebooks: Mapping[str, nbformat.NotebookNode],
               solutions: Mapping[str, nbformat.NotebookNode] | None = None) -> list[Leak]:
    """Every solution line that appears in a cell of ``notebooks`` outside the solution cells.

    The solution lines are those of ``solutions`` (the teacher's notebooks, to search their student
    copies), by default those of ``notebooks`` themselves.
    """
    sources = notebooks if solutions is None else solutions
    lines = [line for notebook in sources.values() for line in solution_lines(notebook)]
    leaks = []
    for name, notebook in notebooks.items():
        for cell in notebook.cells:
            if is_solution_cell(cell):
                continue
            forms = _forms_in(cell)
            found = (line for line in lines if _appears(line, forms))
            leaks.extend(Leak(line, name, cell.get("id", "?"), cell.cell_type) for line in found)
    return leaks
