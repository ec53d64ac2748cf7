"""The teaching notebooks run top to bottom, are committed without outputs, and quote their outputs right.

Each notebook is executed in a fresh ``python3`` kernel with an empty
temporary folder as the working directory (a lecturer copies the notebooks
anywhere: they must find the shipped weights through the library, not
through ``../weights``) and ``MINITRANSFORMERS_FAST=1``, which the
notebooks read to shrink training runs and datasets. A cell that raises
fails the test, with the cell and its traceback in the message.

**Quoted numbers.** A number in backticks in a markdown cell (`0.344`,
`33`, `12%`, `2.6e-06`) quotes the output of the code cell above it, and
the test checks, after the run, that that output prints it word for word.
So only quote numbers that the fast mode prints as the full run does (a
fixed input through a fixed model, a seeded computation); for the others,
let the cell print the sentence, and let the text say how to read it.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK_NAMES = [
    "01_attention_from_scratch",
    "02_masks",
    "03_mini_bert",
    "04_mini_gpt",
    "04b_bert_and_gpt_side_by_side",
    "05_pretrained_weights",
    "06_bert_vs_gpt_embeddings",
    "07_your_own_layer",
    "08_inside_bert_and_gpt",
    "09_your_own_gpt",
]
CELL_TIMEOUT_S = 300  # one cell; a whole notebook takes well under a minute in fast mode


# A whole number, a decimal, a percentage or 1e-5 notation, alone in backticks.
QUOTED_NUMBER = re.compile(r"`([-+]?(?:\d[\d,]*)?\.?\d+(?:[eE][-+]?\d+)?%?)`")


def _path(name: str) -> Path:
    return NOTEBOOKS_DIR / f"{name}.ipynb"


def _printed(cell: nbformat.NotebookNode) -> str:
    """All the text a code cell showed: printed lines, its value, the Markdown it displayed."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.extend(output.data.get(kind, "") for kind in ("text/plain", "text/markdown"))
    return "\n".join(parts)


def misquoted_numbers(notebook: nbformat.NotebookNode) -> list[str]:
    """The numbers quoted in markdown (in backticks) that the code cell above them did not print."""
    problems, printed, above = [], "", None
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            printed, above = _printed(cell), index
            continue
        if cell.cell_type != "markdown":
            continue
        for number in QUOTED_NUMBER.findall(cell.source):
            if not re.search(rf"(?<![\d.]){re.escape(number)}(?!\d)", printed):
                problems.append(
                    f"cell {index} quotes `{number}`, which code cell {above} above it does not print; quote its "
                    f"output word for word, or write the number without backticks if it is not a quote"
                )
    return problems


def _executed(code_output: str, markdown: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(...)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=code_output)]
    notebook.cells = [code, nbformat.v4.new_markdown_cell(markdown)]
    return notebook


@pytest.mark.parametrize("markdown, wrong", [
    ("The loss falls to `5.47` and the cache saves `5.7x`... `83%` of `200` tokens.", []),
    ("The loss falls to `5.4`.", ["5.4"]),        # a prefix of the printed 5.47 is not a quote of it
    ("The loss falls to `5.48`.", ["5.48"]),
    ("Run `python -m x` with `d = 4`: not numbers.", []),
])
def test_quoted_numbers_must_be_printed_by_the_cell_above(markdown, wrong):
    problems = misquoted_numbers(_executed("loss 5.47, 5.7x faster, 83% of 200 tokens\n", markdown))
    assert [problem.split("`")[1] for problem in problems] == wrong


def test_every_notebook_is_present_and_listed_in_the_readme():
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    on_disk = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert on_disk == NOTEBOOK_NAMES, "notebooks/ should hold exactly the course's notebooks"
    missing = [name for name in NOTEBOOK_NAMES if f"{name}.ipynb" not in readme]
    assert not missing, f"notebooks/README.md does not mention {missing}; add one line for each"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_is_committed_without_outputs(name):
    notebook = nbformat.read(_path(name), as_version=4)
    nbformat.validate(notebook)
    with_outputs = [
        index for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not with_outputs, (
        f"{name}.ipynb has outputs in cells {with_outputs}; clear them before committing "
        f"(Jupyter: Edit > Clear Outputs of All Cells, or "
        f"`jupyter nbconvert --clear-output --inplace notebooks/{name}.ipynb`)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_notebook_runs_top_to_bottom(name, monkeypatch, tmp_path):
    # The kernel inherits this process's environment.
    monkeypatch.setenv("MINITRANSFORMERS_FAST", "1")
    # Tiny models on a shared two-core machine: one thread is several times faster than two.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    # The kernel starts in a folder outside the checkout: put this checkout first, so it imports the
    # package under test; the weights are found from the package (shipped_path), not the folder.
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOKS_DIR.parent))
    monkeypatch.delenv("MINITRANSFORMERS_WEIGHTS", raising=False)
    notebook = nbformat.read(_path(name), as_version=4)
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails
    errors = [
        output for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs if output.output_type == "error"
    ]
    assert not errors
    misquoted = misquoted_numbers(notebook)
    assert not misquoted, "\n".join(misquoted)
