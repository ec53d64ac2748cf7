"""How much does next-sentence prediction depend on the context? Score BERT checkpoints at several.

The shipped mini-BERT reads 128 tokens, so each of its NSP pairs holds two
pieces of at most about 63 tokens. This scores a checkpoint's next-sentence
(and masked-token) accuracy on the held-out plays with the pairs built at
each context in turn, up to the checkpoint's own ``max_positions``: if a
model trained at 256 loses accuracy on the pairs of 128, shorter pieces are
part of what a mini-BERT at context 128 is up against.

    python scripts/nsp_by_context.py weights/mini-bert-shakespeare
    python scripts/nsp_by_context.py runs/old-bert --contexts 64 128 256

The pairs are those of ``evaluate_shipped.py`` (``masked_lm_dataset``, seed 1,
15% selected, all masked), cut at the context asked for.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from minitransformers import BertForPreTraining, load_tokenizer
from minitransformers.recipes.evaluation import checkpoint_kind, masked_lm_metrics
from minitransformers.recipes.shakespeare_data import masked_lm_dataset, shakespeare_texts


def nsp_by_context(folder: Path, contexts: list[int] | None = None) -> list[dict]:
    """One row per context: the checkpoint's NSP and masked-token accuracy on pairs of that length.

    ``contexts=None``: 64, 128 and 256, as far as the model reads.
    """
    model = _load_bert(folder)
    longest = model.config.max_positions
    if contexts is None:
        contexts = [context for context in (64, 128, 256) if context <= longest]
    too_long = [context for context in contexts if context > longest]
    if too_long:
        raise ValueError(f"{folder} reads at most {longest} tokens (max_positions); drop the contexts {too_long}")
    tokenizer = load_tokenizer(folder)
    validation = shakespeare_texts()[1]
    rows = []
    for context in contexts:
        dataset = masked_lm_dataset(tokenizer, validation, context, seed=1, evaluation=True)
        metrics = masked_lm_metrics(model, dataset)
        rows.append({"folder": str(folder), "context": context, "pairs": len(dataset), **metrics})
    return rows


def _load_bert(folder: Path) -> BertForPreTraining:
    if checkpoint_kind(folder) != "bert":
        raise ValueError(f"{folder} is not a BERT checkpoint; NSP needs one (BertForPreTraining)")
    return BertForPreTraining.from_pretrained(folder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="+", type=Path, help="BERT checkpoint folders")
    parser.add_argument("--contexts", nargs="+", type=int, default=None,
                        help="contexts to build the pairs at (default: 64, 128 and 256, up to each model's own)")
    args = parser.parse_args()
    if args.contexts is not None and min(args.contexts) < 8:
        parser.error(f"a context must hold a pair of pieces and three special tokens: at least 8, got {args.contexts}")
    try:
        tables = [_rows(folder, args.contexts) for folder in args.folders]
    except (ValueError, OSError) as error:  # not a BERT folder, a context too long, a missing file
        parser.exit(2, f"{Path(__file__).name}: {str(error).splitlines()[0]}\n")
    print("| checkpoint | context | pairs | NSP accuracy | masked tokens | masked-token accuracy |")
    print("|---|---:|---:|---:|---:|---:|")
    for rows in tables:
        for row in rows:
            print(f"| {row['folder']} | {row['context']} | {row['pairs']:,} | {row['nsp_accuracy']:.1%} "
                  f"| {row['masked_tokens']:,} | {row['masked_accuracy']:.1%} |", flush=True)


def _rows(folder: Path, contexts: list[int] | None) -> list[dict]:
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a checkpoint folder")
    return nsp_by_context(folder, contexts)


if __name__ == "__main__":
    main()
