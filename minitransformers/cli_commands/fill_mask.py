"""``minitransformers fill-mask``: the most likely words for each [MASK] in a text, with probabilities."""

from __future__ import annotations

import argparse

from .common import SHIPPED_BERT, load_model_and_tokenizer, pick_device, set_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("text", help='text with one or more [MASK], e.g. "To be or not to [MASK]."')
    parser.add_argument("--model", default=SHIPPED_BERT,
                        help=f"shipped checkpoint name or a Hugging Face-format folder (default: {SHIPPED_BERT})")
    parser.add_argument("--top-k", type=int, default=5, help="candidates per [MASK] (default: 5)")


def run(args: argparse.Namespace) -> int:
    from ..inference import fill_mask
    from ..models import BertForMaskedLM

    device = pick_device(args.device)
    set_seed(args.seed)
    model, tokenizer = load_model_and_tokenizer(args.model, device, bert_class=BertForMaskedLM)
    for index, candidates in enumerate(fill_mask(model, tokenizer, args.text, top_k=args.top_k)):
        print(f"[MASK] #{index + 1}:")
        for candidate in candidates:
            bar = "#" * round(30 * candidate["probability"])
            print(f"  {candidate['token']:<15} {candidate['probability']:6.3f}  {bar}")
    return 0
