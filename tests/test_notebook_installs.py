"""What a student installs: each notebook imports only what the install that notebooks/README.md gives it provides.

Nothing is installed here. The install of a row of the README's table is the
core (``[project] dependencies``) plus the extra it names (``[notebooks]``) or
the packages it adds (``ipykernel``); what it provides is those distributions
and everything they require, read from the metadata of this environment
(which holds the ``dev`` extra, a superset). A notebook's imports are mapped to
their distributions (``packages_distributions``): each must be provided by its
row. ``tests/test_notebooks.py`` runs the same check on every module that a
notebook's run imports or looks up, as the run goes.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
NOTEBOOK_NAMES = sorted(path.stem for path in NOTEBOOKS_DIR.glob("*.ipynb"))
PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def extra(name: str) -> list[str]:
    """The requirement names of an optional-dependencies extra, canonical (``scikit-learn``)."""
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert name in extras, f"pyproject.toml has no [{name}] extra (it has {sorted(extras)})"
    return [canonicalize_name(Requirement(line).name) for line in extras[name]]


CORE = [canonicalize_name(Requirement(line).name) for line in PYPROJECT["project"]["dependencies"]]


@cache
def provided(names: tuple[str, ...]) -> frozenset[str]:
    """The distributions that installing ``names`` brings: them and what they require, recursively."""
    seen, todo = set(), list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue  # named but not installed here: it provides itself, nothing more is known
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    return frozenset(seen)


@cache
def _module_distributions() -> dict[str, frozenset[str]]:
    return {module: frozenset(canonicalize_name(name) for name in names)
            for module, names in metadata.packages_distributions().items()}


def unprovided(modules: set[str], install: frozenset[str]) -> dict[str, list[str]]:
    """``{module: its distributions}`` for the top-level modules that no distribution of ``install`` holds.

    The standard library, our own package and modules that no installed distribution holds are left out.
    """
    missing = {}
    for module in sorted(modules):
        if module in sys.stdlib_module_names or module == "minitransformers":
            continue
        distributions = _module_distributions().get(module)
        if distributions and not distributions & install:
            missing[module] = sorted(distributions)
    return missing


def install_rows() -> list[tuple[list[str], str, str]]:
    """The README's install table: ``(notebooks, install command, what it adds)`` per row."""
    readme = (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    assert "## Installing" in readme, "notebooks/README.md needs a section '## Installing' with the install table"
    section = readme.split("## Installing")[1].split("\n## ")[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and re.fullmatch(r"[0-9bc, ]+", cells[0]):
            rows.append(([name.strip() for name in cells[0].split(",")], cells[1].strip("`"), cells[2]))
    return rows


def install_of(command: str) -> tuple[str, ...]:
    """What ``pip install -e ".[extra]" pkg`` brings: the core, the extra's requirements and the named packages."""
    names = list(CORE)
    for word in command.split()[2:]:
        word = word.strip("'\"")
        found = re.fullmatch(r"-e|\.(?:\[([a-z,]+)\])?", word)
        if found and found.group(1):
            names += [name for part in found.group(1).split(",") for name in extra(part)]
        elif not found:
            names.append(canonicalize_name(word))
    return tuple(names)


def notebook_install(name: str) -> frozenset[str]:
    """The distributions the README's install for notebook ``name`` provides."""
    prefix = name.split("_")[0]
    rows = [command for notebooks, command, _ in install_rows() if prefix in notebooks]
    assert len(rows) == 1, f"notebooks/README.md's install table names notebook {prefix} in {len(rows)} rows, not 1"
    return provided(install_of(rows[0]))


def direct_imports(notebook: nbformat.NotebookNode) -> set[str]:
    """The top-level modules that a notebook's code cells import (IPython magics and shell lines left out)."""
    modules = set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Import):
                modules.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    return modules


def test_the_notebooks_extra_is_core_plus_a_kernel_plus_named_packages():
    notebooks = extra("notebooks")
    assert "ipykernel" in notebooks
    assert set(notebooks) <= set(extra("dev")), "the dev extra must hold everything the notebooks need (CI runs them)"
    heavy = {"jupyterlab", "nbgrader", "transformer-lens", "wandb", "datasets", "pytest"} & set(notebooks)
    assert not heavy, f"the students' [notebooks] extra pulls {sorted(heavy)}; leave them to [dev]"
    # Each package the extra adds is named in the README's table, with the notebook that needs it.
    added = " ".join(adds for _, command, adds in install_rows() if "[notebooks]" in command)
    unnamed = [name for name in notebooks if f"`{name}`" not in added]
    assert not unnamed, f"notebooks/README.md's install table does not name {unnamed} of the [notebooks] extra"


def test_every_notebook_has_one_install_row_and_the_slim_ones_need_only_a_kernel():
    for name in NOTEBOOK_NAMES:
        notebook_install(name)  # one row each
    slim = [prefix for notebooks, command, _ in install_rows() if "[" not in command for prefix in notebooks]
    assert {"01", "02", "03", "04", "04b", "07", "09"} <= set(slim), slim


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_each_notebook_imports_only_what_its_install_provides(name):
    notebook = nbformat.read(NOTEBOOKS_DIR / f"{name}.ipynb", as_version=4)
    missing = unprovided(direct_imports(notebook), notebook_install(name))
    assert not missing, (f"{name} imports {missing}, which the install notebooks/README.md gives it does not "
                         f"provide; add the package to that install (and its row), or import something else")


def test_the_install_check_sees_a_missing_package():
    slim = provided(install_of('pip install -e . ipykernel'))
    assert "ipykernel" in slim and "torch" in slim and "ipython" in slim  # a requirement of a requirement
    assert unprovided({"transformers", "sklearn", "os", "torch", "IPython"}, slim) == {
        "sklearn": ["scikit-learn"], "transformers": ["transformers"]}


def _torch_lines(text: str) -> list[str]:
    """The torch install commands in the code blocks of a markdown text (the prose may name others)."""
    blocks = "\n".join(re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.DOTALL))
    return [found.strip() for found in re.findall(r"(pip install (?:-q )?torch[^&\n#]*)", blocks)]


def test_readme_and_teaching_md_give_the_same_torch_install_line_and_say_how_to_get_the_cpu_build():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("<!-- quickstart-begin -->")[1].split("<!-- quickstart-end -->")[0]
    teaching = (NOTEBOOKS_DIR / "TEACHING.md").read_text(encoding="utf-8")
    lines = set(_torch_lines(quickstart)) | set(_torch_lines(teaching)) | set(_torch_lines(
        (NOTEBOOKS_DIR / "README.md").read_text(encoding="utf-8")))
    assert lines == set(_torch_lines(quickstart)) and len(lines) == 1, (
        f"the torch install lines differ: {sorted(lines)}; give README's Quickstart line everywhere")
    for name, text in (("README.md", readme), ("notebooks/TEACHING.md", teaching)):
        assert "--index-url https://download.pytorch.org/whl/cpu" in text and "Linux" in text, (
            f"{name} should say in one sentence how to get the CPU build of torch on Linux")
