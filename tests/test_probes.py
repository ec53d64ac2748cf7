"""Probe splits keep plays apart, probes learn what is there and score chance on nothing; the Folio's genres."""

from __future__ import annotations

import random

import numpy as np
import pytest

from minitransformers.analysis.genres import FOLIO_GENRES, GENRES, genre_of, genre_plays
from minitransformers.analysis.probes import (
    held_out_splits,
    majority_chance,
    play_folds,
    position_folds,
    probe_scores,
)


def _plays(n_plays: int = 12, per_play: int = 5, seed: int = 0) -> tuple[list[str], list[str]]:
    """Items of ``n_plays`` plays (shuffled), each play carrying one of three labels."""
    rng = random.Random(seed)
    label_of = {f"play{i}": GENRES[i % 3] for i in range(n_plays)}
    items = [play for play in label_of for _ in range(rng.randint(1, per_play))]
    rng.shuffle(items)
    return items, [label_of[play] for play in items]


@pytest.mark.parametrize("folds, seed", [(2, 0), (3, 1), (5, 2), (12, 3)])
def test_play_folds_never_put_a_play_on_both_sides_and_test_every_item_once(folds, seed):
    plays, labels = _plays(seed=seed)
    splits = play_folds(plays, labels, folds, seed)
    assert len(splits) == folds
    tested = sorted(i for _, test in splits for i in test)
    assert tested == list(range(len(plays)))
    for train, test in splits:
        assert not {plays[i] for i in train} & {plays[i] for i in test}
        assert sorted(train + test) == list(range(len(plays)))


def test_play_folds_deal_each_label_round_the_folds():
    plays, labels = _plays(n_plays=12, seed=4)  # four plays per label
    for _, test in play_folds(plays, labels, 4, seed=0):
        assert {labels[i] for i in test} == set(GENRES)  # every fold tests on every genre


def test_play_folds_refuse_a_play_with_two_labels_and_too_many_folds():
    with pytest.raises(ValueError, match="two labels"):
        play_folds(["a", "a", "b"], ["comedy", "tragedy", "comedy"], 2)
    with pytest.raises(ValueError, match="2 plays cannot fill 3 folds"):
        play_folds(["a", "b"], ["comedy", "tragedy"], 3)


def test_position_folds_test_one_contiguous_stretch_of_every_play_in_text_order():
    rng = random.Random(0)
    groups = [f"play{i % 3}" for i in range(62)]
    positions = rng.sample(range(1000), 62)
    splits = position_folds(groups, positions, 4)
    assert sorted(i for _, test in splits for i in test) == list(range(62))
    for group in set(groups):
        ranked = sorted((i for i in range(62) if groups[i] == group), key=lambda i: positions[i])
        stretches = [[rank for rank, i in enumerate(ranked) if i in test] for _, test in splits]
        # fold 0 tests on the first stretch, fold 1 on the next, ...: together they are the play in order
        assert sum(stretches, []) == list(range(len(ranked)))
        assert max(map(len, stretches)) - min(map(len, stretches)) <= 1
    for train, test in splits:
        assert not set(train) & set(test)


def test_held_out_splits_train_on_every_other_play():
    plays = ["a", "b", "c", "a", "d", "c"]
    splits = held_out_splits(plays, ["a", "c"])
    assert splits == [([1, 4], [0, 3]), ([1, 4], [2, 5])]


def test_a_probe_reads_separable_features_and_scores_chance_on_constant_ones():
    plays, labels = _plays(n_plays=15, per_play=8, seed=5)
    rng = np.random.default_rng(0)
    separable = np.eye(3)[[GENRES.index(label) for label in labels]] + 0.05 * rng.normal(size=(len(labels), 3))
    splits = play_folds(plays, labels, 3)
    accuracies, chances = probe_scores(separable, labels, splits)
    assert accuracies == [1.0, 1.0, 1.0]
    constant, chance = probe_scores(np.ones((len(labels), 4)), labels, splits)
    assert constant == pytest.approx(chance)  # nothing to read: the probe guesses the training majority
    assert chances == chance


def test_majority_chance_is_the_training_majority_on_the_test_side():
    labels = ["comedy", "comedy", "tragedy", "history", "tragedy", "comedy"]
    # train: comedy x2, tragedy, history -> guess comedy; test: tragedy, comedy -> 1/2
    assert majority_chance(labels, [([0, 1, 2, 3], [4, 5])]) == [0.5]


def test_probe_scores_refuse_an_overlapping_split():
    with pytest.raises(ValueError, match="both sides"):
        probe_scores(np.eye(4), ["a", "b", "a", "b"], [([0, 1, 2], [2, 3])])


def test_the_folio_has_fourteen_comedies_ten_histories_and_twelve_tragedies():
    counts = {genre: sum(value == genre for value in FOLIO_GENRES.values()) for genre in GENRES}
    assert counts == {"comedy": 14, "history": 10, "tragedy": 12}
    assert genre_of("The Winter's Tale") == "comedy" and genre_of("Troilus and Cressida") == "tragedy"
    with pytest.raises(KeyError, match="Pericles"):
        genre_of("Pericles")


def test_every_folio_title_is_in_the_corpus_and_the_genre_plays_skip_pericles_cymbeline_and_poems():
    from minitransformers.data.shakespeare import load_works

    works = load_works()
    assert set(FOLIO_GENRES) <= set(works)
    chosen = genre_plays(works)
    assert len(chosen) == 35 and "Cymbeline" not in chosen and "Pericles" not in chosen
    assert "The Sonnets" not in chosen
