"""Reading and writing BPE vocabularies: ``vocab.json`` + ``merges.txt`` or ``tokenizer.json``.

* ``vocab.json``: ``{"token": id, ...}``.
* ``merges.txt``: an optional ``#version`` line, then one merge per line,
  ``"Ġ t"``, in the order they were learned (the line order is the rank).

Broken files raise ``ValueError`` naming the file and line: a token listed
twice, ids with gaps, a malformed merge line, or a merge whose parts or result
are not in the vocabulary.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_json(path: str | Path) -> dict:
    """A tokenizer file's JSON object, or a ``ValueError`` that names the file and the problem."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise ValueError(f"{path} is a folder; a tokenizer file was expected there") from None
    except PermissionError:
        raise ValueError(f"no permission to read {path}; fix its permissions (chmod a+r)") from None
    except FileNotFoundError:
        raise ValueError(f"{path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); it is damaged, save it again") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} should hold a JSON object, found {type(data).__name__}")
    return data


def model_section(path: str | Path, data: dict) -> dict:
    """The ``"model"`` object of a ``tokenizer.json``, which must hold a ``"vocab"``."""
    model = data.get("model")
    if not isinstance(model, dict) or "vocab" not in model:
        raise ValueError(
            f"{path} has no model vocabulary (expected \"model\": {{\"type\": ..., \"vocab\": ...}}); "
            f"it is damaged or not a Hugging Face tokenizer.json"
        )
    return model


def read_vocab_json(path: str | Path) -> dict[str, int]:
    """Read ``vocab.json``; a token that appears twice is an error (JSON would keep the last)."""

    def no_duplicates(pairs: list[tuple[str, int]]) -> dict[str, int]:
        vocab: dict[str, int] = {}
        for token, index in pairs:
            if token in vocab:
                raise ValueError(
                    f"{path}: token {token!r} appears twice (ids {vocab[token]} and {index})"
                )
            vocab[token] = index
        return vocab

    return json.loads(Path(path).read_text(encoding="utf-8"), object_pairs_hook=no_duplicates)


def read_merges_txt(path: str | Path) -> list[tuple[str, str]]:
    """Read ``merges.txt`` -> ``[(left, right), ...]`` in rank order."""
    merges = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if (number == 1 and line.startswith("#version")) or not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path}, line {number}: expected 'left right', found {line!r}")
            merges.append((parts[0], parts[1]))
    return merges


def check_merges(vocab: dict[str, int], merges: list[tuple[str, str]]) -> None:
    """Every merge must join two vocabulary tokens into a vocabulary token, once."""
    seen: set[tuple[str, str]] = set()
    for rank, (left, right) in enumerate(merges):
        for part in (left, right, left + right):
            if part not in vocab:
                raise ValueError(
                    f"merge #{rank} ({left!r}, {right!r}) uses {part!r}, which is not in the "
                    f"vocabulary; vocab.json and merges.txt must come from the same training run"
                )
        if (left, right) in seen:
            raise ValueError(f"merge ({left!r}, {right!r}) is listed twice (second at #{rank})")
        seen.add((left, right))


def write_vocab_and_merges(
    directory: Path, vocab: dict[str, int], merges: list[tuple[str, str]]
) -> None:
    """Write ``vocab.json`` and ``merges.txt`` (the files GPT-2 checkpoints ship)."""
    ordered = dict(sorted(vocab.items(), key=lambda kv: kv[1]))
    (directory / "vocab.json").write_text(json.dumps(ordered, ensure_ascii=False), encoding="utf-8")
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in merges]
    (directory / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def read_tokenizer_json_bpe(
    path: str | Path,
) -> tuple[dict[str, int], list[tuple[str, str]], list[str], dict]:
    """Read a byte-level BPE ``tokenizer.json`` -> (vocab, merges, special tokens, model settings)."""
    data = read_json(path)
    model = model_section(path, data)
    if model.get("type") != "BPE":
        raise ValueError(f"{path} holds a {model.get('type')} model, not BPE")
    vocab = dict(model["vocab"])
    merges = []
    for merge in model.get("merges", []):
        # Older files write "a b", newer ones ["a", "b"].
        left, right = merge.split(" ") if isinstance(merge, str) else merge
        merges.append((left, right))
    specials, lstrip = [], []
    for added in data.get("added_tokens", []):
        vocab.setdefault(added["content"], added["id"])
        if added.get("special", False):
            specials.append(added["content"])
            if added.get("lstrip", False):
                lstrip.append(added["content"])
    pre = data.get("pre_tokenizer") or {}
    settings = {
        "add_prefix_space": pre.get("add_prefix_space", False),
        "ignore_merges": model.get("ignore_merges", False),
        "lstrip_tokens": lstrip,
    }
    return vocab, merges, specials, settings


def write_tokenizer_json_bpe(
    path: Path,
    vocab: dict[str, int],
    merges: list[tuple[str, str]],
    specials: list[str],
    add_prefix_space: bool,
    lstrip_tokens: frozenset[str] = frozenset(),
) -> None:
    """Write a ``tokenizer.json`` that Hugging Face ``tokenizers`` can load."""
    byte_level = {
        "type": "ByteLevel",
        "add_prefix_space": add_prefix_space,
        "trim_offsets": True,
        "use_regex": True,
    }
    data = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {
                "id": vocab[t],
                "content": t,
                "single_word": False,
                "lstrip": t in lstrip_tokens,  # the same rule the library applies when encoding
                "rstrip": False,
                "normalized": False,
                "special": True,
            }
            for t in specials
        ],
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": byte_level,
        "decoder": byte_level,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": dict(sorted(vocab.items(), key=lambda kv: kv[1])),
            "merges": [[a, b] for a, b in merges],
        },
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
