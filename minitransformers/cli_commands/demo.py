"""``minitransformers demo``: the first thing to run after installing.

With the shipped Shakespeare checkpoints (``minitransformers.shipped_path``) it generates text
with mini-GPT, fills in a blank with mini-BERT and saves mini-BERT's attention on that very
sentence, ``[MASK]`` and all: the picture shows what the student just saw.
Without them (before they are trained) it builds both models from the
``tiny`` presets, runs one sentence through each, prints their parameter
counts and saves a picture of the two attention masks: BERT's
bidirectional one next to GPT's causal one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .common import (
    SHIPPED_BERT,
    SHIPPED_GPT,
    check_writable,
    load_model,
    load_tokenizer_for,
    pick_device,
    set_seed,
    shipped_checkpoint,
    use_file_backend,
)
from ..pretrained.known import weights_folder

SENTENCE = "to be or not to be that is the question"
PROMPT = "ROMEO:"
MASKED = "To be, or not to be: that is the [MASK]."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output-dir", type=Path, default=Path("demo_output"),
                        help="where the demo's figures go (default: ./demo_output)")
    parser.add_argument("--max-new-tokens", type=int, default=80,
                        help="how many tokens mini-GPT writes (default: 80)")


def run(args: argparse.Namespace) -> int:
    check_writable(args.output_dir / "figure.png", "--output-dir")
    device = pick_device(args.device)
    set_seed(0 if args.seed is None else args.seed)
    use_file_backend()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    gpt_folder, bert_folder = shipped_checkpoint(SHIPPED_GPT), shipped_checkpoint(SHIPPED_BERT)
    if gpt_folder is None and bert_folder is None:
        print(f"No shipped weights found in {weights_folder()} (set MINITRANSFORMERS_WEIGHTS to the folder "
              f"that holds them): showing the untrained tiny models.\n")
        _untrained_demo(args.output_dir, device)
        return 0
    if gpt_folder is not None:
        _gpt_demo(gpt_folder, device, args.max_new_tokens)
    if bert_folder is not None:
        _bert_demo(bert_folder, device, args.output_dir)
    return 0


def _gpt_demo(folder: Path, device: torch.device, max_new_tokens: int) -> None:
    from ..generation import stream_text
    from ..models import GPTLMHeadModel

    model, tokenizer = load_model(GPTLMHeadModel, folder, device), load_tokenizer_for(folder)
    print(f"== mini-GPT ({folder.name}) ==\n{model.summary()}\n")
    print(f"Prompt: {PROMPT!r}, sampled with temperature 0.8, top-k 40:\n")
    print(PROMPT, end="", flush=True)
    # sliding_context: past the model's context, each new token sees the last max_positions tokens.
    for piece in stream_text(model, tokenizer, PROMPT, max_new_tokens, temperature=0.8, top_k=40,
                             sliding_context=True):
        print(piece, end="", flush=True)
    print("\n")


def _bert_demo(folder: Path, device: torch.device, output_dir: Path) -> None:
    from ..inference import fill_mask
    from ..models import BertForPreTraining

    model, tokenizer = load_model(BertForPreTraining, folder, device), load_tokenizer_for(folder)
    print(f"== mini-BERT ({folder.name}) ==\n{model.summary()}\n")
    print(f"Fill in the blank: {MASKED!r}")
    for prediction in fill_mask(model, tokenizer, MASKED, top_k=5)[0]:
        print(f"  {prediction['token']:<15} {prediction['probability']:.3f}")
    path = _save_masked_attention(model, tokenizer, output_dir / "bert_attention.png")
    print(f"\nAttention of every layer and head on {MASKED!r} saved to {path}")


def _save_masked_attention(model, tokenizer, path: Path) -> Path:
    """mini-BERT's attention, every layer and head, on ``MASKED`` read as fill_mask reads it."""
    import matplotlib.pyplot as plt

    from .. import plotting

    # fill_mask understands [MASK] whatever the tokenizer calls its mask token; the picture must show that token.
    text = MASKED.replace("[MASK]", tokenizer.convert_ids_to_tokens(tokenizer.mask_token_id))
    ids = torch.tensor([tokenizer(text)["input_ids"]], device=next(model.parameters()).device)
    with torch.no_grad():
        attentions = model(ids, output_attentions=True).attentions  # one (b h t s) per layer
    figure = plotting.plot_attention_grid(attentions, tokenizer.display_tokens(ids[0].tolist()),
                                          title=f"mini-BERT, every layer and head, on {MASKED!r}")
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path


def _untrained_demo(output_dir: Path, device: torch.device) -> None:
    from ..config import BertConfig, GPTConfig
    from ..models import BertForMaskedLM, GPTLMHeadModel

    words = SENTENCE.split()
    # A toy vocabulary made from the sentence itself: each new word gets the next id.
    vocab = {word: i + 1 for i, word in enumerate(dict.fromkeys(words))}
    ids = torch.tensor([[vocab[w] for w in words]], device=device)
    print(f"Sentence: {SENTENCE!r}\nToken ids (toy vocabulary): {ids[0].tolist()}\n")

    bert = BertForMaskedLM(BertConfig.preset("tiny")).to(device).eval()
    gpt = GPTLMHeadModel(GPTConfig.preset("tiny")).to(device).eval()
    with torch.no_grad():
        bert_out, gpt_out = bert(ids), gpt(ids)
    print(bert.summary())
    print(f"  output: hidden states {tuple(bert_out.last_hidden_state.shape)} (b t c), "
          f"masked-LM logits {tuple(bert_out.logits.shape)} (b t v)\n")
    print(gpt.summary())
    print(f"  output: next-token logits {tuple(gpt_out.logits.shape)} (b t v)\n")

    path = _save_mask_comparison(words, output_dir / "masks_bidirectional_vs_causal.png")
    print(f"BERT's bidirectional mask and GPT's causal mask saved to {path}")
    print("Train the models (or add weights/mini-*-shakespeare) for generation and fill-mask.")


def _save_mask_comparison(tokens: list[str], path: Path) -> Path:
    """Save BERT's and GPT's masks side by side (with and without padding)."""
    import matplotlib.pyplot as plt

    from ..plotting import plot_mask_comparison

    figure = plot_mask_comparison(tokens)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
