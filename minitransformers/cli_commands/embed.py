"""``minitransformers embed``: one vector per line of text, saved to .npy, .pt or .csv.

Texts come from a file (one per line), from ``-`` (standard input) or from
``--text`` options. For ten texts or fewer the cosine similarities are printed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import SHIPPED_BERT, CLIError, check_writable, load_model_and_tokenizer, pick_device, set_seed

FORMATS = (".npy", ".pt", ".csv")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", default=None, help="text file, one text per line ('-' = stdin)")
    parser.add_argument("--text", action="append", default=[], help="a text to embed (repeatable)")
    parser.add_argument("--model", default=SHIPPED_BERT,
                        help=f"shipped checkpoint name or a Hugging Face-format folder, BERT or GPT "
                             f"(default: {SHIPPED_BERT})")
    parser.add_argument("--pooling", choices=("mean", "cls", "last"), default=None,
                        help="how token vectors become one (default: mean for BERT, last for GPT)")
    parser.add_argument("--no-normalize", action="store_true", help="keep the raw length of each vector")
    parser.add_argument("--batch-size", type=int, default=32, help="texts per forward pass (default: 32)")
    parser.add_argument("--output", type=Path, default=None, help=f"where to save: {', '.join(FORMATS)}")


def run(args: argparse.Namespace) -> int:
    from ..inference import sentence_embeddings
    from ..models import BertModel, GPTModel

    texts = list(args.text) + _read_texts(args.file)
    if not texts:
        raise CLIError("no texts: give a file (one text per line), '-' for stdin, or --text \"...\"")
    if args.output is not None and args.output.suffix not in FORMATS:
        raise CLIError(f"--output must end in one of {', '.join(FORMATS)}, got {args.output.name}")
    if args.output is not None:
        check_writable(args.output, "--output")
    device = pick_device(args.device)
    set_seed(args.seed)
    model, tokenizer = load_model_and_tokenizer(args.model, device, bert_class=BertModel, gpt_class=GPTModel)
    pooling = args.pooling or ("last" if isinstance(model, GPTModel) else "mean")
    vectors = sentence_embeddings(model, tokenizer, texts, pooling=pooling,
                                  normalize=not args.no_normalize, batch_size=args.batch_size)
    print(f"{len(texts)} texts -> embeddings of shape {tuple(vectors.shape)} ({pooling} pooling)")
    if len(texts) <= 10:
        unit = vectors / vectors.norm(dim=-1, keepdim=True).clamp(min=1e-12)
        print("cosine similarities:")
        for i, row in enumerate((unit @ unit.T).tolist()):
            print(f"  {i:>2} " + " ".join(f"{value:6.3f}" for value in row) + f"  {texts[i][:40]!r}")
    if args.output is not None:
        _save(vectors, args.output)
        print(f"saved to {args.output}")
    return 0


def _read_texts(file: str | None) -> list[str]:
    if file is None:
        return []
    if file == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = Path(file).read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise CLIError(f"cannot read {file}: {error.strerror or error}") from None
    return [line for line in lines if line.strip()]


def _save(vectors, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".pt":
        import torch

        torch.save(vectors, path)
    elif path.suffix == ".npy":
        import numpy as np

        np.save(path, vectors.numpy())
    else:
        import numpy as np

        np.savetxt(path, vectors.numpy(), delimiter=",", fmt="%.6f")
