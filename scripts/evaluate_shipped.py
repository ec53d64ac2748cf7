"""Print every held-out number of the shipped checkpoints (or any checkpoint folders) in one table.

    python scripts/evaluate_shipped.py                               # the three folders in weights/
    python scripts/evaluate_shipped.py runs/mini-gpt-shakespeare     # any folder
    python scripts/evaluate_shipped.py --famous-lines                # also the side-by-side table

The model cards and README quote this script's output. On a 2-core CPU it takes
several minutes (mini-BERT's evaluation reads about a million tokens); on a GPU, seconds.
"""

import argparse
import json
from pathlib import Path

from minitransformers.recipes.evaluation import checkpoint_kind, evaluate_checkpoint, target_report

SHIPPED = [Path("weights") / name for name in
           ("mini-gpt-shakespeare", "mini-bert-shakespeare", "char-gpt-shakespeare")]


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
    parser.add_argument("folders", nargs="*", type=Path, default=SHIPPED)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--json", type=Path, help="also write the numbers to this JSON file")
    parser.add_argument("--famous-lines", action="store_true",
                        help="print the famous-lines table for the BERT and GPT among the folders")
    args = parser.parse_args()
    results = {str(folder): evaluate_checkpoint(folder, args.device) for folder in args.folders}
    print("| checkpoint | kind | held-out plays | famous lines (top 5) |")
    print("|---|---|---|---|")
    for folder, metrics in results.items():
        print("| " + " | ".join(_row(Path(folder), metrics)) + " |")
    for folder, metrics in results.items():
        for description, value, met in target_report(metrics["kind"], metrics):
            print(f"{Path(folder).name}: target {description}: {value:.4f}, {'met' if met else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.famous_lines:
        from minitransformers import BertForPreTraining, GPTLMHeadModel, load_tokenizer
        from minitransformers.recipes.famous_lines import famous_lines_table, markdown_table

        kinds = {checkpoint_kind(folder): folder for folder in args.folders}
        if "bert" in kinds and "gpt" in kinds:
            rows = famous_lines_table(BertForPreTraining.from_pretrained(kinds["bert"]),
                                      GPTLMHeadModel.from_pretrained(kinds["gpt"]), load_tokenizer(kinds["gpt"]))
            print()
            print(markdown_table(rows))


if __name__ == "__main__":
    main()
