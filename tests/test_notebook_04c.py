"""Notebook 04c shows every figure it draws.

The library's plotting functions return a Figure that pyplot does not track
(``plotting/_layout.new_figure``), so ``plt.show()`` after one shows nothing:
the figure must be the cell's value. 04c's attention maps before and after
the drop once ended with ``plt.show()`` and the full run showed no maps at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import torch  # noqa: E402

from minitransformers import plotting  # noqa: E402

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "04c_why_bert_waits.ipynb"
LIBRARY_PLOTS = {name for name in dir(plotting) if name.startswith("plot_")}


def hidden_figures(notebook: nbformat.NotebookNode) -> list[str]:
    """Cells that call a library plot function but do not end with its figure (or display() of it)."""
    problems = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(cell.source)
        called = {node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in LIBRARY_PLOTS}
        if not called:
            continue
        last = tree.body[-1]
        shown = (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)
                 and isinstance(last.value.func, ast.Name) and last.value.func.id in LIBRARY_PLOTS | {"display"})
        if not shown:
            problems.append(f"cell {index} calls {sorted(called)} but ends with {ast.unparse(last)!r}: the "
                            f"figure is not tracked by pyplot, so make the call the cell's last line")
    return problems


def test_a_library_figure_is_not_tracked_by_pyplot():
    # Why plt.show() cannot show it: the reason the check below exists.
    before = plt.get_fignums()
    weights = [torch.softmax(torch.randn(1, 2, 4, 4), dim=-1)]
    fig = plotting.plot_attention_comparison({"a": (weights, list("wxyz")), "b": (weights, list("wxyz"))})
    assert plt.get_fignums() == before and fig.axes


def test_every_library_figure_of_04c_is_the_value_of_its_cell():
    problems = hidden_figures(nbformat.read(NOTEBOOK, as_version=4))
    assert not problems, "\n".join(problems)


def test_the_check_finds_a_figure_followed_by_plt_show():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("plot_attention_comparison(maps)\nplt.show()"),
                      nbformat.v4.new_code_cell("fig, ax = plt.subplots()\nplt.show()"),
                      nbformat.v4.new_code_cell("plot_attention_comparison(maps)")]
    assert [problem.split(" calls")[0] for problem in hidden_figures(notebook)] == ["cell 0"]
