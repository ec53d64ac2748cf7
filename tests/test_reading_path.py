"""The reading path: one forward pass a student can follow in a handful of files (issue 19)."""

from __future__ import annotations

import ast
import inspect
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

import minitransformers
from minitransformers import (
    ATTENTIONS, BertConfig, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, BertModel,
    GPTConfig, GPTLMHeadModel, GPTModel, HookPoint,
)

PACKAGE = Path(minitransformers.__file__).parent

# The README's package map, in reading order. A file may import only files listed before it
# (the model files excepted: they put everything together).
READING_ORDER = [
    "masks.py", "hook_points.py", "registry.py", "attention.py", "feedforward.py", "positional.py",
    "blocks.py", "config.py", "outputs.py", "models/base.py", "models/gpt.py", "models/bert.py",
    "models/bert_heads.py",
]
MODEL_FILES = {"models/gpt.py", "models/bert.py", "models/bert_heads.py"}


def trace_package_calls(fn) -> Counter:
    """(file relative to the package, function) -> number of Python calls while ``fn`` runs."""
    calls: Counter = Counter()
    root = str(PACKAGE)

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(root):
            relative = Path(frame.f_code.co_filename).relative_to(PACKAGE).as_posix()
            calls[(relative, frame.f_code.co_name)] += 1

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def files_of(calls: Counter) -> set[str]:
    return {file for file, _ in calls}


@pytest.fixture
def mini_gpt():
    torch.manual_seed(0)
    return GPTLMHeadModel(GPTConfig.preset("tiny")).eval()


@pytest.fixture
def no_hooks_anywhere(monkeypatch):
    """As in a fresh process: other tests' models may still hold hooks, which turn every hook point on."""
    monkeypatch.setattr(HookPoint, "in_use", 0)


def test_a_gpt_forward_stays_in_six_files(mini_gpt, no_hooks_anywhere):
    ids = torch.randint(0, 1000, (2, 8))
    calls = trace_package_calls(lambda: mini_gpt(ids))
    files = files_of(calls)
    assert len(files) <= 6, sorted(files)
    assert files <= {"models/gpt.py", "models/base.py", "masks.py", "blocks.py", "attention.py", "feedforward.py"}
    # Unused hook points and absent position schemes cost no call at all.
    assert "hook_points.py" not in files and "positional.py" not in files
    assert sum(calls.values()) <= 32, calls  # was 61 calls into 8 files before the redesign


def test_a_bert_forward_with_padding_stays_in_six_files(no_hooks_anywhere):
    torch.manual_seed(0)
    model = BertModel(BertConfig.preset("tiny")).eval()
    ids = torch.randint(0, 1000, (2, 8))
    attention_mask = torch.ones(2, 8, dtype=torch.long)
    attention_mask[1, 5:] = 0
    files = files_of(trace_package_calls(lambda: model(ids, attention_mask=attention_mask)))
    assert len(files) <= 6, sorted(files)
    assert files <= {"models/bert.py", "models/base.py", "masks.py", "blocks.py", "attention.py", "feedforward.py"}


def _imported_package_files(path: Path) -> set[str]:
    """Package files that ``path`` imports (relative imports, anywhere in the file)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = path.parent
            for _ in range(node.level - 1):
                base = base.parent
            target = base.joinpath(*(node.module or "").split("."))
            for candidate in (target.with_suffix(".py"), target / "__init__.py"):
                if candidate.exists():
                    found.add(candidate.relative_to(PACKAGE).as_posix())
            for alias in node.names:  # "from . import attention"
                module = target / f"{alias.name}.py"
                if module.exists():
                    found.add(module.relative_to(PACKAGE).as_posix())
    return found


def test_no_file_in_the_reading_order_imports_a_later_one():
    readme = (PACKAGE.parent / "README.md").read_text()
    for name in READING_ORDER:
        assert f"`{name}`" in readme, f"{name} is missing from the README's package map"
    for position, name in enumerate(READING_ORDER):
        if name in MODEL_FILES:
            continue
        later = set(READING_ORDER[position + 1:])
        imported = _imported_package_files(PACKAGE / name)
        assert not imported & later, f"{name} imports {sorted(imported & later)}, listed after it"


def test_config_is_a_leaf():
    assert _imported_package_files(PACKAGE / "config.py") == {"registry.py"}


def _package_import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports, anywhere in the file (lazy imports in functions too).

    Relative and absolute imports alike; ``from pkg import name`` imports the module ``pkg.name``
    when there is one, else ``pkg`` (its ``__init__``).
    """
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for name, path in modules.items():
        package = (name if path.name == "__init__.py" else name.rpartition(".")[0]).split(".")
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                targets |= {f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                            for alias in node.names}
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def _first_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A list of modules ``a -> b -> ... -> a`` that import each other in a circle, or None."""
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for imported in sorted(graph[node]):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_sees_imports_of_every_kind():
    graph = _package_import_graph()
    assert "minitransformers.kv_cache" in graph["minitransformers.models.gpt"]  # relative, at the top
    assert "minitransformers.training.checkpoint" in graph["minitransformers.training.trainer_checkpoints"]  # absolute
    assert "minitransformers.pretrained" in graph["minitransformers.models.base"]  # inside a function
    assert _first_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]


def test_no_modules_of_the_package_import_each_other_in_a_circle():
    """A circle means neither module can be read (or imported) first; the lower one must not look up."""
    cycle = _first_cycle(_package_import_graph())
    assert cycle is None, "these modules import each other in a circle: " + " -> ".join(cycle)


def test_the_default_model_does_not_consult_the_registry():
    ATTENTIONS._factories.pop("multi_head", None)
    model = GPTLMHeadModel(GPTConfig.preset("tiny"))
    assert "multi_head" not in ATTENTIONS._factories  # built by class, not looked up by name
    assert type(model.gpt.blocks[0].attention).__name__ == "MultiHeadAttention"
    # The name still resolves (lazily) for configs that name it, and for saving.
    assert ATTENTIONS.resolve("multi_head") is type(model.gpt.blocks[0].attention)


def test_repr_lists_layers_and_hides_hook_points(mini_gpt):
    text = repr(mini_gpt)
    assert "HookPoint" not in text and "hook_" not in text
    assert "MultiHeadAttention" in text and "LayerNorm" in text and "FeedForward" in text
    points = mini_gpt.hook_points()
    assert "gpt.blocks.0.attention.hook_weights" in points
    assert all(isinstance(p, HookPoint) for p in points.values())


@pytest.mark.parametrize("model_class", [
    BertModel, BertForMaskedLM, BertForPreTraining, BertForSequenceClassification, GPTModel, GPTLMHeadModel,
])
def test_model_signatures_are_explicit(model_class):
    parameters = inspect.signature(model_class.forward).parameters.values()
    assert not any(p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL) for p in parameters)
    assert "output_attentions" in {p.name for p in parameters}


def test_one_name_per_concept_in_the_package():
    """The old names of 'attention weights' and 'position scheme' arguments are gone."""
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text()
        for old in ("return_weights", "position_scheme", "PositionScheme", "scaled_dot_product_attention("):
            if old == "scaled_dot_product_attention(":
                text = text.replace("F.scaled_dot_product_attention(", "")
            assert old not in text, f"{path.relative_to(PACKAGE)} still says {old}"


def test_transformer_config_is_not_exported():
    assert not hasattr(minitransformers, "TransformerConfig")


def test_hook_points_count_attached_hooks(mini_gpt):
    before = HookPoint.in_use
    point = mini_gpt.gpt.blocks[0].attention.hook_q
    seen = []
    handle = point.register_forward_hook(lambda module, args, out: seen.append(out.shape))
    assert HookPoint.in_use == before + 1
    mini_gpt(torch.randint(0, 1000, (1, 5)))
    handle.remove()
    handle.remove()  # a second remove changes nothing
    assert HookPoint.in_use == before and seen == [torch.Size([1, 2, 5, 32])]
    mini_gpt(torch.randint(0, 1000, (1, 5)))
    assert len(seen) == 1


def test_a_forgotten_hook_stops_counting_when_its_model_is_gone():
    import gc

    before = HookPoint.in_use
    model = GPTLMHeadModel(GPTConfig.preset("tiny"))
    model.gpt.blocks[0].hook_resid_post.register_forward_hook(lambda module, args, out: None)  # never removed
    assert HookPoint.in_use == before + 1
    del model
    gc.collect()
    assert HookPoint.in_use == before
