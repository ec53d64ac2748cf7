"""Print every held-out number of the shipped checkpoints (or any checkpoint folders) in one table.

    python scripts/evaluate_shipped.py                               # the three folders in weights/
    python scripts/evaluate_shipped.py runs/mini-gpt-shakespeare     # any folder
    python scripts/evaluate_shipped.py --famous-lines                # also the side-by-side table

With a mini-BERT and a mini-GPT among the folders it also prints whether
reading both sides helps: BERT's top-1 accuracy at hidden tokens of the
held-out plays, GPT's on the same tokens read from the left only, and the
best context-free guess beside both.

The model cards and README quote this script's output. On a 2-core CPU it takes
several minutes (mini-BERT's evaluation reads about a million tokens); on a GPU, seconds.
"""

import argparse
import json
import sys
from pathlib import Path

from minitransformers import CheckpointNotFoundError, shipped_path
from minitransformers.recipes.evaluation import (
    BOTH_SIDES_MARGIN, both_sides_metrics, checkpoint_kind, evaluate_checkpoint, target_report,
)

SHIPPED_NAMES = ("mini-gpt-shakespeare", "mini-bert-shakespeare", "char-gpt-shakespeare")


def _row(directory: Path, metrics: dict) -> list[str]:
    kind = metrics["kind"]
    if kind == "bert":
        numbers = (f"masked-token accuracy {metrics['masked_accuracy']:.1%} (all <mask>), "
                   f"next-sentence accuracy {metrics['nsp_accuracy']:.1%}")
    else:
        numbers = (f"loss {metrics['loss']:.3f} nats/token at context {metrics['context']}, "
                   f"perplexity {metrics['perplexity']:.1f}")
    famous = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in metrics.get("famous_lines", {}).items())
    return [directory.name, kind, numbers, famous or "-"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folders", nargs="*", type=Path,
                        help="checkpoint folders (default: the three shipped ones, found by shipped_path)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--famous-lines", action="store_true",
                        help="print the famous-lines table for the BERT and GPT among the folders")
    args = parser.parse_args()
    if not args.folders:
        try:
            args.folders = [shipped_path(name) for name in SHIPPED_NAMES]
        except CheckpointNotFoundError as error:
            print(f"evaluate_shipped: {error}", file=sys.stderr)
            sys.exit(2)
    problems = [problem for problem in map(_problem, args.folders) if problem]
    if problems:
        print(f"evaluate_shipped: {problems[0]}", file=sys.stderr)
        sys.exit(2)
    results = {str(folder): evaluate_checkpoint(folder, args.device) for folder in args.folders}
    print("| checkpoint | kind | held-out plays | famous lines (top 5) |")
    print("|---|---|---|---|")
    for folder, metrics in results.items():
        print("| " + " | ".join(_row(Path(folder), metrics)) + " |")
    for folder, metrics in results.items():
        for description, value, met in target_report(metrics["kind"], metrics):
            print(f"{Path(folder).name}: target {description}: {value:.4f}, {'met' if met else 'MISSED'}")
    kinds = {checkpoint_kind(folder): folder for folder in args.folders}
    if "bert" in kinds and "gpt" in kinds:
        results["both_sides"] = _both_sides(kinds["bert"], kinds["gpt"], args.device, args.famous_lines)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def _problem(folder: Path) -> str | None:
    """Why ``folder`` cannot be scored, in one line, or None."""
    if not folder.exists():
        return f"{folder} does not exist; give a checkpoint folder (e.g. weights/mini-bert-shakespeare)"
    if not folder.is_dir():
        return f"{folder} is a file; give the checkpoint folder that holds config.json"
    if not (folder / "config.json").is_file():
        return f"{folder} holds no config.json: it is not a checkpoint folder"
    try:
        checkpoint_kind(folder)
    except (ValueError, OSError) as error:  # another model type, or a config.json that is not JSON
        return str(error).splitlines()[0]
    return None


def _both_sides(bert_folder: Path, gpt_folder: Path, device: str, famous_lines: bool) -> dict:
    """Does reading both sides help? BERT vs GPT on the same hidden tokens, then the famous lines."""
    from minitransformers import BertForPreTraining, GPTLMHeadModel, load_tokenizer
    from minitransformers.recipes.famous_lines import famous_lines_table, found_counts, markdown_table
    from minitransformers.recipes.shakespeare_data import shakespeare_texts

    bert = BertForPreTraining.from_pretrained(bert_folder).to(device)
    gpt = GPTLMHeadModel.from_pretrained(gpt_folder).to(device)
    tokenizer = load_tokenizer(gpt_folder)
    numbers = both_sides_metrics(bert, gpt, tokenizer, shakespeare_texts()[1], right_side_removed=True)
    print(f"\nBoth sides against the left side, on {numbers['tokens']:,} hidden tokens of the held-out plays "
          "(15% of each window, every one <mask> for BERT):")
    print(f"  mini-BERT, reading both sides:      top-1 {numbers['bert_both_sides']:.1%}")
    print(f"  mini-BERT, right side removed:      top-1 {numbers['bert_left_only']:.1%}")
    print(f"  mini-GPT, reading the left only:    top-1 {numbers['gpt_left_only']:.1%}")
    print(f"  best context-free guess ({numbers['unigram_token']!r}): top-1 {numbers['unigram']:.1%}")
    gap = numbers["bert_both_sides"] - numbers["gpt_left_only"]
    print(f"  BERT - GPT: {100 * gap:+.1f} points")
    verdict = "both sides help" if gap > 0 else "both sides do NOT help here"
    print(f"  {verdict}: target BERT - GPT >= {100 * BOTH_SIDES_MARGIN:.0f} points, "
          f"{'met' if gap >= BOTH_SIDES_MARGIN else 'MISSED'}")
    rows = famous_lines_table(bert, gpt, tokenizer)
    counts = found_counts(rows)
    print(f"Famous lines (top 5): BERT both sides {counts['bert']}, BERT with the right side removed "
          f"{counts['bert_left']}, GPT (left side) {counts['gpt']}")
    if famous_lines:
        print()
        print(markdown_table(rows))
    return {**numbers, "famous_lines": counts}


if __name__ == "__main__":
    main()
