"""Famous lines with one word hidden: what BERT and GPT each make of them.

BERT reads both sides of the gap and fills it (``<cls> left <mask> right <sep>``);
GPT reads only the left side and predicts the next token. A third column gives
BERT the left side only (``<cls> left <mask> <sep>``): what it loses there is
what the right side was worth. A line counts as found when the hidden word is
among a model's top 5 guesses.

The list was fixed before the shipped models were trained and the models
learn from the plays as they are: these lines get no special treatment, so
the table measures what ordinary training gives. Every hidden word is one
token of the shared vocabulary (with its leading space). ``held_out`` lines
come from the validation plays, which neither model has read.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..tokenizers.readable import readable_token


@dataclass(frozen=True)
class FamousLine:
    play: str
    text: str  # the line, with "{}" where the hidden word goes
    word: str
    held_out: bool = False

    @property
    def left(self) -> str:
        return self.text.split("{}")[0].rstrip()

    @property
    def right(self) -> str:
        return self.text.split("{}")[1]


FAMOUS_LINES = [
    FamousLine("Hamlet", "To be, or not to be,--that is the {}:", "question"),
    FamousLine("Julius Caesar", "Friends, Romans, countrymen, lend me your {};", "ears"),
    FamousLine("Julius Caesar", "I come to bury {}, not to praise him.", "Caesar"),
    FamousLine("Richard III", "A horse! a horse! my {} for a horse!", "kingdom"),
    FamousLine("Romeo and Juliet", "O Romeo, Romeo! wherefore {} thou Romeo?", "art"),
    FamousLine("Romeo and Juliet", "But soft! what light through yonder {} breaks?", "window"),
    FamousLine("Hamlet", "Something is rotten in the state of {}.", "Denmark"),
    FamousLine("Hamlet", "Frailty, thy name is {}!", "woman"),
    FamousLine("As You Like It", "All the world's a {}, And all the men and women merely players;", "stage"),
    FamousLine("The Merchant of Venice", "The quality of {} is not strain'd;", "mercy"),
    FamousLine("Richard III", "Now is the {} of our discontent", "winter"),
    FamousLine("Romeo and Juliet", "What's in a name? that which we call a {} By any other name would smell as sweet;",
               "rose"),
    FamousLine("A Midsummer Night's Dream", "The course of true {} never did run smooth:", "love"),
    FamousLine("King Lear", "How sharper than a serpent's tooth it is To have a thankless {}!", "child"),
    FamousLine("Henry V", "Once more unto the {}, dear friends, once more,", "breach"),
    FamousLine("Romeo and Juliet", "Good night, good night! parting is such sweet {}", "sorrow"),
    FamousLine("Julius Caesar", "The fault, dear Brutus, is not in our {}, But in ourselves,", "stars"),
    FamousLine("The Merchant of Venice", "All that glisters is not {},", "gold"),
    FamousLine("Romeo and Juliet", "A plague o' both your {}!", "houses"),
    FamousLine("Julius Caesar", "This was the noblest {} of them all:", "Roman"),
    FamousLine("The Tempest", "We are such stuff As {} are made on,", "dreams", held_out=True),
    FamousLine("Twelfth Night", "If {} be the food of love, play on,", "music", held_out=True),
]


def _word_id(tokenizer, word: str) -> int:
    ids = tokenizer.encode_ordinary(" " + word)
    if len(ids) != 1:
        raise ValueError(f"{word!r} is {len(ids)} tokens for this tokenizer; the table needs one-token words")
    return ids[0]


@torch.no_grad()
def bert_guesses(bert, tokenizer, line: FamousLine, top_k: int = 5, right_side: bool = True) -> list[int]:
    """BERT's ``top_k`` token ids for the gap, reading both sides: ``<cls> left <mask> right <sep>``
    (``right_side=False``: ``<cls> left <mask> <sep>``)."""
    right = tokenizer.encode_ordinary(line.right) if right_side else []
    ids = [tokenizer.cls_token_id, *tokenizer.encode_ordinary(line.left), tokenizer.mask_token_id,
           *right, tokenizer.sep_token_id]
    position = ids.index(tokenizer.mask_token_id)
    logits = bert.eval()(torch.tensor([ids], device=bert.device)).logits  # (b t v)
    return logits[0, position].topk(top_k).indices.tolist()


@torch.no_grad()
def gpt_guesses(gpt, tokenizer, line: FamousLine, top_k: int = 5) -> list[int]:
    """GPT's ``top_k`` next-token ids after the left side only."""
    ids = tokenizer.encode_ordinary(line.left)
    logits = gpt.eval()(torch.tensor([ids], device=gpt.device)).logits  # (b t v)
    return logits[0, -1].topk(top_k).indices.tolist()


def _bert_left_only(bert, tokenizer, line: FamousLine, top_k: int) -> list[int]:
    return bert_guesses(bert, tokenizer, line, top_k, right_side=False)


# column -> (which model, how it guesses)
_COLUMNS = {"bert": ("bert", bert_guesses), "bert_left": ("bert", _bert_left_only), "gpt": ("gpt", gpt_guesses)}


def famous_lines_table(bert=None, gpt=None, tokenizer=None, lines=FAMOUS_LINES, top_k: int = 5) -> list[dict]:
    """One row per line: the gap word, each model's top guesses and whether the word is among them.

    Columns: ``bert`` (both sides), ``bert_left`` (BERT with the right side
    removed) and ``gpt`` (the left side, as always). Guesses are readable
    tokens (a newline is ``⏎``). Pass either model or both; they must share
    ``tokenizer``.
    """
    if tokenizer is None or (bert is None and gpt is None):
        raise ValueError("famous_lines_table needs a tokenizer and at least one of bert, gpt")
    rows = []
    for line in lines:
        target = _word_id(tokenizer, line.word)
        row = {"play": line.play, "line": line.text.format("___"), "word": line.word, "held_out": line.held_out}
        for name, (family, guess) in _COLUMNS.items():
            model = bert if family == "bert" else gpt
            if model is not None:
                top = guess(model, tokenizer, line, top_k)
                row[f"{name}_top"] = [readable_token(tokenizer.decode([i])) for i in top]
                row[f"{name}_found"] = target in top
        rows.append(row)
    return rows


def found_counts(rows: list[dict]) -> dict[str, str]:
    """``{"bert": "12/20", "bert_left": "4/20", ...}`` over the lines from training plays (held-out apart)."""
    counts = {}
    for name in _COLUMNS:
        for held_out in (False, True):
            chosen = [row for row in rows if row["held_out"] == held_out and f"{name}_found" in row]
            if chosen:
                key = name + ("_held_out" if held_out else "")
                counts[key] = f"{sum(row[f'{name}_found'] for row in chosen)}/{len(chosen)}"
    return counts


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table; a found word is in bold."""
    names = [name for name in _COLUMNS if f"{name}_top" in rows[0]]
    header = {"bert": "BERT top 5 (reads both sides)", "bert_left": "BERT top 5, right side removed",
              "gpt": "GPT top 5 (reads the left only)"}
    lines = ["| play | line | word | " + " | ".join(header[n] for n in names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for row in rows:
        cells = []
        for name in names:
            guesses = [f"**{g}**" if g == row["word"] else g for g in row[f"{name}_top"]]
            cells.append(("✓ " if row[f"{name}_found"] else "✗ ") + ", ".join(guesses))
        play = row["play"] + (" (held out)" if row["held_out"] else "")
        lines.append(f"| {play} | {row['line']} | {row['word']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
