"""What each of the pair is good at: every row of ``scripts/pair_tasks.py``'s table, on one BERT and one GPT.

Each ``*_rows`` function runs one task on a :class:`Pair` and returns
:class:`~minitransformers.analysis.pair_table.Row` objects, scored fold by
fold (the held-out plays, or splits by play) so each row has a spread.
:func:`run_pair_tasks` runs them all; ``minitransformers/analysis/README.md``
says what each row measures and why its folds are the ones they are.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data.shakespeare import VALIDATION_PLAYS
from .cross_objective import cross_objective_fill_in
from .finetune_genre import finetune_scores
from .genres import genre_of, genre_plays
from .pair_table import Row
from .passages import shakespeare_passages, spoken_lines
from .pooling import pooled_embeddings
from .probes import held_out_splits, majority_chance, play_folds, position_folds, probe_scores
from .retrieval import chance_scores, next_line_candidates, retrieval_scores
from .word_tasks import fill_in_by_play, next_word_by_play

# "Which play?": the four held-out plays and six the pair read, two of each genre among them.
WHICH_PLAYS = (*VALIDATION_PLAYS, "Hamlet", "Romeo and Juliet", "A Midsummer Night's Dream", "Julius Caesar",
               "Henry V", "The Merchant of Venice")
# BERT's pooling beside GPT's: the average, each family's summary token, the last token (BERT's is <sep>).
POOLING_PAIRS = (("mean", "mean"), ("cls", "last"), ("last", "last"))
CLASSIFICATION = "Ettin: the encoder wins classification"


@dataclass(frozen=True)
class PairTaskSettings:
    """How big each task is; :meth:`quick` shrinks every one for CI."""

    held_out: tuple[str, ...] = VALIDATION_PLAYS
    text_chars: int | None = None  # cut each held-out play to this many characters (quick mode)
    next_word_targets: int = 300  # per held-out play
    genre_per_play: int = 40  # 4-line passages from each play
    folds: int = 5
    which_plays: tuple[str, ...] = WHICH_PLAYS
    which_per_play: int = 120
    retrieval_queries: int = 200  # per held-out play
    retrieval_candidates: int = 100
    retrieval_lines: int | None = None  # only the first lines of each play (quick mode)
    retrieval_min_chars: int = 20  # shorter lines ("Ay.", "Exit.") are neither queries nor candidates
    finetune_steps: int = 100
    finetune_batch: int = 16
    finetune_pooling: str = "mean"
    cross_steps: int = 200
    cross_batch: int = 16
    seed: int = 0

    @classmethod
    def quick(cls) -> PairTaskSettings:
        return cls(text_chars=3000, next_word_targets=16, genre_per_play=3, folds=2, which_plays=WHICH_PLAYS[:8],
                   which_per_play=6, retrieval_queries=16, retrieval_lines=250, finetune_steps=2, finetune_batch=8,
                   cross_steps=2, cross_batch=4)


@dataclass
class Pair:
    """A mini-BERT and a mini-GPT that share a tokenizer, each with its tokenizer (BERT's adds ``<cls>``/``<sep>``)."""

    bert: object
    gpt: object
    bert_tokenizer: object
    gpt_tokenizer: object
    works: dict[str, str]

    @classmethod
    def load(cls, bert_dir: str | Path, gpt_dir: str | Path, works: dict[str, str] | None = None) -> Pair:
        from ..data.shakespeare import load_works
        from ..models import BertForPreTraining, GPTLMHeadModel
        from ..tokenizers import load_tokenizer

        bert = BertForPreTraining.from_pretrained(bert_dir, attn_impl="sdpa")
        gpt = GPTLMHeadModel.from_pretrained(gpt_dir, attn_impl="sdpa")
        bert_tokenizer, gpt_tokenizer = load_tokenizer(bert_dir), load_tokenizer(gpt_dir)
        probe = "To be, or not to be: that is the question."
        if bert_tokenizer.encode_ordinary(probe) != gpt_tokenizer.encode_ordinary(probe):
            raise ValueError(f"{bert_dir} and {gpt_dir} tokenize text differently; the tasks compare a pair "
                             "trained with one tokenizer (see minitransformers/recipes/shipped.py)")
        if bert.config.max_positions != gpt.config.max_positions:
            raise ValueError(f"BERT reads {bert.config.max_positions} positions and GPT {gpt.config.max_positions}; "
                             "the tasks hide the same tokens in the same windows, so give a pair of one context")
        return cls(bert, gpt, bert_tokenizer, gpt_tokenizer, load_works() if works is None else works)

    def held_out_texts(self, settings: PairTaskSettings) -> dict[str, str]:
        return {play: self.works[play][:settings.text_chars] for play in settings.held_out}


def _held_out_folds(settings: PairTaskSettings) -> str:
    return f"{len(settings.held_out)} held-out plays"


def fill_in_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    scores = fill_in_by_play(pair.bert, pair.gpt, pair.bert_tokenizer, pair.held_out_texts(settings))
    return [Row("Fill-in: a hidden token (15% hidden), BERT both sides, GPT the left",
                [s["bert_both_sides"] for s in scores.values()], [s["gpt_left_only"] for s in scores.values()],
                sum(s["unigram"] for s in scores.values()) / len(scores), _held_out_folds(settings),
                "BERT", "BERT reads both sides of the gap")]


def next_word_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    scores = next_word_by_play(pair.bert, pair.gpt, pair.bert_tokenizer, pair.held_out_texts(settings),
                               targets=settings.next_word_targets, seed=settings.seed)
    return [Row("Next word: GPT, and BERT with <mask> at the end", [s["bert"] for s in scores.values()],
                [s["gpt"] for s in scores.values()], sum(s["unigram"] for s in scores.values()) / len(scores),
                _held_out_folds(settings), "GPT", "Ettin: the decoder wins generation")]


def _embeddings(pair: Pair, texts: list[str]) -> tuple[dict, dict]:
    return (pooled_embeddings(pair.bert, pair.bert_tokenizer, texts),
            pooled_embeddings(pair.gpt, pair.gpt_tokenizer, texts))


def _probe_rows(task: str, bert_vectors: dict, gpt_vectors: dict, labels: list[str], splits, folds: str,
                note: str = "") -> list[Row]:
    rows = []
    for bert_pooling, gpt_pooling in POOLING_PAIRS:
        bert_scores, chances = probe_scores(bert_vectors[bert_pooling], labels, splits)
        gpt_scores, _ = probe_scores(gpt_vectors[gpt_pooling], labels, splits)
        rows.append(Row(f"{task} (BERT {bert_pooling}, GPT {gpt_pooling} pooling)", bert_scores, gpt_scores,
                        sum(chances) / len(chances), folds, "BERT", CLASSIFICATION, note if not rows else ""))
    return rows


def genre_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    plays = genre_plays(pair.works)
    passages = shakespeare_passages(plays, per_play=settings.genre_per_play, works=pair.works, seed=settings.seed)
    texts, of_play = [p.text for p in passages], [p.play for p in passages]
    labels = [genre_of(play) for play in of_play]
    bert_vectors, gpt_vectors = _embeddings(pair, texts)
    note = (f"{len(plays)} plays of the First Folio, {settings.genre_per_play} passages each; the pair read all but "
            f"the {len(settings.held_out)} held-out ones in pre-training (without labels)")
    rows = _probe_rows("Genre, linear probe", bert_vectors, gpt_vectors, labels,
                       play_folds(of_play, labels, settings.folds, settings.seed),
                       f"{settings.folds} folds by play", note)
    held = [play for play in settings.held_out if play in plays]
    bert_scores, chances = probe_scores(bert_vectors["mean"], labels, held_out_splits(of_play, held))
    gpt_scores, _ = probe_scores(gpt_vectors["mean"], labels, held_out_splits(of_play, held))
    rows.append(Row("Genre, linear probe on the held-out plays only (mean pooling)", bert_scores, gpt_scores,
                    sum(chances) / len(chances), f"{len(held)} held-out plays", "BERT", CLASSIFICATION,
                    "trained on the passages of every other play, tested on plays neither the pair nor the "
                    "probe has read; each held-out play is one fold, so the spread is large"))
    return rows


def which_play_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    passages = shakespeare_passages(settings.which_plays, per_play=settings.which_per_play, works=pair.works,
                                    seed=settings.seed)
    texts, of_play = [p.text for p in passages], [p.play for p in passages]
    bert_vectors, gpt_vectors = _embeddings(pair, texts)
    splits = position_folds(of_play, [p.first_line for p in passages], settings.folds)
    return _probe_rows(f"Which play of {len(settings.which_plays)}, linear probe", bert_vectors, gpt_vectors,
                       of_play, splits, f"{settings.folds} stretches of each play",
                       f"{settings.which_per_play} passages per play; fold k tests on the k-th stretch of each play")


def retrieval_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    per_play: dict[tuple[str, str], list[dict]] = {}
    for play in settings.held_out:
        lines = spoken_lines(pair.works[play])[:settings.retrieval_lines]
        queries, candidates = next_line_candidates([len(line) >= settings.retrieval_min_chars for line in lines],
                                                   settings.retrieval_queries, settings.retrieval_candidates,
                                                   settings.seed)
        bert_vectors, gpt_vectors = _embeddings(pair, lines)
        for bert_pooling, gpt_pooling in POOLING_PAIRS[:2]:
            found = (retrieval_scores(bert_vectors[bert_pooling], queries, candidates),
                     retrieval_scores(gpt_vectors[gpt_pooling], queries, candidates))
            per_play.setdefault((bert_pooling, gpt_pooling), []).append(found)
    chance = chance_scores(settings.retrieval_candidates)
    rows = []
    for (bert_pooling, gpt_pooling), found in per_play.items():
        for metric, name in (("recall_at_1", "recall@1"), ("mrr", "MRR")):
            rows.append(Row(f"Retrieval, the next line among {settings.retrieval_candidates}: {name} "
                            f"(BERT {bert_pooling}, GPT {gpt_pooling} pooling)",
                            [b[metric] for b, _ in found], [g[metric] for _, g in found], chance[metric],
                            _held_out_folds(settings), "BERT", "Ettin: the encoder wins retrieval"))
    return rows


def finetune_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    plays = genre_plays(pair.works)
    passages = shakespeare_passages(plays, per_play=settings.genre_per_play, works=pair.works, seed=settings.seed)
    texts, of_play = [p.text for p in passages], [p.play for p in passages]
    labels = [genre_of(play) for play in of_play]
    splits = play_folds(of_play, labels, settings.folds, settings.seed)
    options = dict(pooling=settings.finetune_pooling, steps=settings.finetune_steps,
                   batch_size=settings.finetune_batch, seed=settings.seed)
    bert_scores = finetune_scores(pair.bert, pair.bert_tokenizer, texts, labels, splits, **options)
    gpt_scores = finetune_scores(pair.gpt, pair.gpt_tokenizer, texts, labels, splits, **options)
    chances = majority_chance(labels, splits)
    return [Row(f"Genre, fine-tuned for {settings.finetune_steps} steps of {settings.finetune_batch} "
                f"({settings.finetune_pooling} pooling)", bert_scores, gpt_scores, sum(chances) / len(chances),
                f"{settings.folds} folds by play", "BERT", CLASSIFICATION)]


def cross_objective_rows(pair: Pair, settings: PairTaskSettings) -> list[Row]:
    train = {play: text for play, text in pair.works.items() if play not in settings.held_out}
    scores = cross_objective_fill_in(pair.bert, pair.gpt, pair.bert_tokenizer, train, pair.held_out_texts(settings),
                                     steps=settings.cross_steps, batch_size=settings.cross_batch, seed=settings.seed)
    column = {name: [s[name] for s in scores.values()] for name in next(iter(scores.values()))}
    chance = sum(column["unigram"]) / len(scores)
    budget = f"{settings.cross_steps} MLM steps of {settings.cross_batch} windows"
    reason = "Ettin: continued training with the other objective does not catch up"
    average = {name: 100 * sum(values) / len(values) for name, values in column.items()}
    note = (f"the GPT with its causal mask switched off and no training fills {average['gpt_unmasked']:.1f}% "
            f"(reading the left side only: {average['gpt_left']:.1f}%); BERT as shipped {average['bert']:.1f}%")
    folds = _held_out_folds(settings)
    return [Row(f"Cross-objective fill-in: GPT + {budget} against BERT + the same", column["bert_continued"],
                column["gpt_continued"], chance, folds, "BERT", reason, note),
            Row(f"Cross-objective fill-in: GPT + {budget} against BERT as shipped", column["bert"],
                column["gpt_continued"], chance, folds, "BERT", reason)]


TASKS: dict[str, Callable[[Pair, PairTaskSettings], list[Row]]] = {
    "fill_in": fill_in_rows, "next_word": next_word_rows, "genre": genre_rows, "which_play": which_play_rows,
    "retrieval": retrieval_rows, "finetune": finetune_rows, "cross_objective": cross_objective_rows,
}


def run_pair_tasks(pair: Pair, settings: PairTaskSettings | None = None, tasks: tuple[str, ...] = tuple(TASKS),
                   log: Callable[[str], None] = print) -> tuple[list[Row], dict[str, float]]:
    """Every row of the table, and the seconds each task took."""
    settings = settings or PairTaskSettings()
    unknown = [task for task in tasks if task not in TASKS]
    if unknown:
        raise ValueError(f"unknown tasks {unknown}; choose among {list(TASKS)}")
    rows, seconds = [], {}
    for task in tasks:
        started = time.time()
        rows += TASKS[task](pair, settings)
        seconds[task] = time.time() - started
        log(f"{task}: {seconds[task]:.0f} s")
    return rows, seconds

