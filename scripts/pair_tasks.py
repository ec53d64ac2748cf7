"""What each of the pair is good at (Ettin at mini scale): one table, BERT against GPT, task by task.

    python scripts/pair_tasks.py                         # the shipped pair in weights/, every task
    python scripts/pair_tasks.py --quick                 # small subsets and fewer folds: seconds, for CI
    python scripts/pair_tasks.py --bert runs/x/mini-bert-shakespeare --gpt runs/x/mini-gpt-shakespeare
    python scripts/pair_tasks.py --tasks genre retrieval --json table.json

Each row scores BERT and GPT on the same folds (held-out plays, or splits by
play), gives the mean and the spread over the folds, the chance level, and
says in words which family wins and by how much against the spread.
``minitransformers/analysis/README.md`` says what each row measures. The
full run is sized for at most 30 minutes on a 2-core CPU.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from minitransformers import CheckpointNotFoundError, shipped_path
from minitransformers.analysis.pair_table import CLEAR, markdown_table
from minitransformers.analysis.pair_tasks import TASKS, Pair, PairTaskSettings, run_pair_tasks
from minitransformers.device import describe_device


def _describe(model) -> str:
    config = model.config
    return f"{config.n_layers} layers x {config.hidden_size}, context {config.max_positions}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bert", type=Path, help="a mini-BERT folder (default: weights/mini-bert-shakespeare)")
    parser.add_argument("--gpt", type=Path, help="a mini-GPT folder (default: weights/mini-gpt-shakespeare)")
    parser.add_argument("--quick", action="store_true", help="small subsets and 2 folds, for CI (not for results)")
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=list(TASKS), help="run only these rows")
    parser.add_argument("--json", type=Path, help="also write every row's per-fold scores to this JSON file")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="torch threads (default: one per core; on a machine busy with other work, 1 is "
                             "often faster, as the threads otherwise wait for each other)")
    args = parser.parse_args(argv)
    if args.threads < 1:
        print(f"pair_tasks: --threads must be at least 1, got {args.threads}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)  # by default one thread per core
    try:
        bert_dir = args.bert or shipped_path("mini-bert-shakespeare")
        gpt_dir = args.gpt or shipped_path("mini-gpt-shakespeare")
    except CheckpointNotFoundError as error:
        print(f"pair_tasks: {error}", file=sys.stderr)
        return 2
    for folder in (bert_dir, gpt_dir):
        if not (Path(folder) / "config.json").exists():
            print(f"pair_tasks: {folder} holds no config.json; give a checkpoint folder", file=sys.stderr)
            return 2
    started = time.time()
    pair = Pair.load(bert_dir, gpt_dir)
    settings = PairTaskSettings.quick() if args.quick else PairTaskSettings()
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731 - progress apart from the table
    rows, seconds = run_pair_tasks(pair, settings, tuple(args.tasks), log=log)
    total = time.time() - started
    print(f"BERT: {bert_dir} ({_describe(pair.bert)}); GPT: {gpt_dir} ({_describe(pair.gpt)})")
    print(f"Machine: {describe_device('cpu')}; {total / 60:.1f} minutes in all"
          + (" (--quick: small subsets, not results)" if args.quick else ""))
    print(f"Scores in %, mean ± standard deviation over the folds; a family wins a row when its lead is at least "
          f"{CLEAR:g}x the spread of the per-fold gaps.\n")
    print(markdown_table(rows))
    if args.json:
        record = {"bert": str(bert_dir), "gpt": str(gpt_dir), "quick": args.quick, "machine": describe_device("cpu"),
                  "seconds": seconds, "total_seconds": total,
                  "rows": [{"task": row.task, "bert": row.bert, "gpt": row.gpt, "chance": row.chance,
                            "folds": row.folds, "verdict": row.sentence(), "note": row.note} for row in rows]}
        args.json.write_text(json.dumps(record, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
