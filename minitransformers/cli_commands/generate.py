"""``minitransformers generate``: continue a prompt with a mini-GPT checkpoint, printed as it is written.

Sampling is on by default (temperature 0.8, top-k 40); ``--temperature 0``
gives greedy decoding, the same text every time.
"""

from __future__ import annotations

import argparse
import sys

from .common import SHIPPED_GPT, CLIError, load_model_and_tokenizer, pick_device, set_seed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("prompt", nargs="?", default=None, help="text to continue (or use --prompt)")
    parser.add_argument("--prompt", dest="prompt_option", default=None, metavar="TEXT",
                        help="text to continue")
    parser.add_argument("--model", default=SHIPPED_GPT,
                        help=f"shipped checkpoint name or a Hugging Face-format folder (default: {SHIPPED_GPT})")
    parser.add_argument("--max-new-tokens", type=int, default=100, help="tokens to add (default: 100)")
    parser.add_argument("--temperature", type=float, default=0.8, help="0 = greedy (default: 0.8)")
    parser.add_argument("--top-k", type=int, default=40, help="sample among the k best tokens (default: 40)")
    parser.add_argument("--top-p", type=float, default=None, help="nucleus sampling threshold, e.g. 0.9")
    parser.add_argument("--repetition-penalty", type=float, default=1.0,
                        help="above 1 discourages repeating tokens (default: 1.0, none)")
    parser.add_argument("--stop", action="append", default=[], metavar="TEXT",
                        help="stop once this text appears (repeatable)")
    parser.add_argument("--no-cache", action="store_true", help="recompute everything each step (slower)")
    parser.add_argument("--sliding-context", action="store_true",
                        help="go on past the model's context: each new token sees the last max_positions "
                             "tokens (always on for character-level models)")


def run(args: argparse.Namespace) -> int:
    from ..generation import stream_text

    prompt = args.prompt_option if args.prompt_option is not None else args.prompt
    if prompt is None:
        raise CLIError("give a prompt: minitransformers generate \"ROMEO:\"")
    if args.max_new_tokens < 0:
        raise CLIError(f"--max-new-tokens must be >= 0, got {args.max_new_tokens}")
    from ..generation.sampling import check_sampling_options

    try:  # before the model loads: a bad setting is reported at once
        check_sampling_options(args.temperature, args.top_k, args.top_p, args.repetition_penalty)
    except ValueError as error:
        raise CLIError(f"--{str(error).replace('_', '-')}") from None
    from ..models import GPTLMHeadModel
    from ..tokenizers import CharTokenizer

    device = pick_device(args.device)
    set_seed(args.seed)
    model, tokenizer = load_model_and_tokenizer(args.model, device, gpt_class=GPTLMHeadModel)
    if not tokenizer.encode(prompt):
        raise CLIError("the prompt encodes to zero tokens; give some text")
    stream = stream_text(
        model, tokenizer, prompt, args.max_new_tokens, temperature=args.temperature,
        top_k=args.top_k if args.temperature > 0 else None, top_p=args.top_p,
        repetition_penalty=args.repetition_penalty, stop_strings=args.stop,
        seed=args.seed, use_cache=not args.no_cache,
        # Past the model's context the window slides: each new token sees the last max_positions
        # tokens. A char model's context (a few hundred characters) is too short to be a hard limit.
        sliding_context=args.sliding_context or isinstance(tokenizer, CharTokenizer),
    )
    try:
        first = next(stream, "")  # bad settings raise here, before anything is printed
    except ValueError as error:  # say it in the command line's words, not the function's
        raise CLIError(str(error).replace("pass sliding_context=True", "pass --sliding-context")) from None
    sys.stdout.write(prompt + first)
    for piece in stream:
        sys.stdout.write(piece)
        sys.stdout.flush()
    sys.stdout.write("\n")
    return 0
