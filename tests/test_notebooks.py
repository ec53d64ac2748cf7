"""The teaching notebooks run top to bottom, and are committed without outputs.

Each notebook is executed in a fresh ``python3`` kernel with an empty
temporary folder as the working directory (a lecturer copies the notebooks
anywhere: they must find the shipped weights through the library, not
through ``../weights``) and ``MINITRANSFORMERS_FAST=1``, which the
notebooks read to shrink training runs and datasets. A cell that raises
fails the test, with the cell and its traceback in the message.
"""

from __future__ import annotations

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
    "05_pretrained_weights",
    "06_bert_vs_gpt_embeddings",
    "07_your_own_layer",
    "08_inside_bert_and_gpt",
]
CELL_TIMEOUT_S = 300  # one cell; a whole notebook takes well under a minute in fast mode


def _path(name: str) -> Path:
    return NOTEBOOKS_DIR / f"{name}.ipynb"


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
