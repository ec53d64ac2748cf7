"""``load_tokenizer(directory)``: pick the right tokenizer class from the files present."""

from __future__ import annotations

from pathlib import Path

from minitransformers.tokenizers import bpe_files
from minitransformers.tokenizers.base import Tokenizer
from minitransformers.tokenizers.byte_level_bpe import ByteLevelBPETokenizer
from minitransformers.tokenizers.char import VOCAB_FILE, CharTokenizer
from minitransformers.tokenizers.wordpiece import WordPieceTokenizer


def load_tokenizer(directory: str | Path) -> Tokenizer:
    """Load whatever tokenizer a folder holds.

    Checked in this order: our ``char_vocab.json``; ``tokenizer.json`` (its
    ``model.type`` says WordPiece or BPE); ``vocab.json`` + ``merges.txt``
    (GPT-2); ``vocab.txt`` (BERT).
    """
    directory = Path(directory)
    try:
        return _load(directory)
    except OSError as error:  # a file that is a folder, unreadable, ...: say which one
        if error.errno is None:
            raise  # our own "no tokenizer files" message
        where = error.filename or directory
        raise ValueError(f"cannot read the tokenizer file {where}: {error.strerror or error}") from None


def _load(directory: Path) -> Tokenizer:
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{directory} is not a folder; pass the folder that holds the tokenizer files"
        )
    if (directory / VOCAB_FILE).exists():
        return CharTokenizer.from_directory(directory)
    if (directory / "tokenizer.json").exists():
        path = directory / "tokenizer.json"
        model_type = bpe_files.model_section(path, bpe_files.read_json(path)).get("type")
        if model_type == "WordPiece":
            return WordPieceTokenizer.from_directory(directory)
        if model_type == "BPE":
            return ByteLevelBPETokenizer.from_directory(directory)
        raise ValueError(
            f"{directory}/tokenizer.json holds a {model_type} model; only WordPiece and BPE are supported"
        )
    if (directory / "vocab.json").exists() and (directory / "merges.txt").exists():
        return ByteLevelBPETokenizer.from_directory(directory)
    if (directory / "vocab.txt").exists():
        return WordPieceTokenizer.from_directory(directory)
    found = sorted(p.name for p in directory.iterdir())
    raise FileNotFoundError(
        f"no tokenizer files in {directory} (found {found}); expected tokenizer.json, vocab.txt, "
        f"vocab.json + merges.txt, or {VOCAB_FILE}"
    )
