"""Linear probes on frozen embeddings, with splits that keep train and test apart.

A *probe* asks what a frozen model's vectors already hold: a logistic
regression reads them and guesses a label, and only the probe is trained.
The split decides what the score means:

* :func:`play_folds` keeps every play whole on one side. Passages of the same
  play share characters' names and words, so a probe tested on a play it was
  trained on could recognise the play rather than its genre.
* :func:`position_folds` (for "which play?", where every play must be on both
  sides) cuts each play into ``folds`` stretches in text order; fold ``k``
  tests on the ``k``-th stretch of every play, so no test passage sits among
  the training passages it borders.

Each split is a list of ``(train, test)`` index lists; :func:`probe_scores`
fits one probe per split and returns its test accuracy, and the accuracy of
always guessing the training side's most frequent label (the chance level).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from .metrics import as_embedding_matrix, require_sklearn

Split = tuple[list[int], list[int]]  # (train indices, test indices)


def play_folds(plays: Sequence[str], labels: Sequence[str], folds: int, seed: int = 0) -> list[Split]:
    """``folds`` splits in which every play is on one side only; each label's plays are dealt
    round the folds in a seeded order, so every fold tests on (nearly) the same mix of labels."""
    label_of: dict[str, str] = {}
    for play, label in zip(plays, labels, strict=True):
        if label_of.setdefault(play, label) != label:
            raise ValueError(f"play {play!r} has two labels ({label_of[play]!r} and {label!r}); give one per play")
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if len(label_of) < folds:
        raise ValueError(f"{len(label_of)} plays cannot fill {folds} folds by play; use at most {len(label_of)}")
    fold_of, dealt = {}, 0
    shuffle = random.Random(seed)
    for label in sorted(set(label_of.values())):
        members = sorted(play for play, other in label_of.items() if other == label)
        shuffle.shuffle(members)
        for play in members:  # round-robin, continuing from the last label's fold, like dealing cards
            fold_of[play] = dealt % folds
            dealt += 1
    splits = []
    for fold in range(folds):
        test = [i for i, play in enumerate(plays) if fold_of[play] == fold]
        train = [i for i, play in enumerate(plays) if fold_of[play] != fold]
        splits.append((train, test))
    return splits


def position_folds(groups: Sequence[Any], positions: Sequence[int], folds: int) -> list[Split]:
    """``folds`` splits; fold ``k`` tests on the ``k``-th stretch (in ``positions`` order) of every group."""
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    fold_of = [0] * len(groups)
    for group in set(groups):
        members = sorted((i for i, other in enumerate(groups) if other == group), key=lambda i: positions[i])
        if len(members) < folds:
            raise ValueError(f"group {group!r} has {len(members)} items, fewer than folds={folds}")
        for rank, index in enumerate(members):
            fold_of[index] = rank * folds // len(members)  # contiguous stretches of (nearly) equal size
    return [([i for i in range(len(groups)) if fold_of[i] != k], [i for i in range(len(groups)) if fold_of[i] == k])
            for k in range(folds)]


def held_out_splits(plays: Sequence[str], held_out: Sequence[str]) -> list[Split]:
    """One split per held-out play: train on every other play's items, test on that play's."""
    held = set(held_out)
    train = [i for i, play in enumerate(plays) if play not in held]
    return [(train, [i for i, other in enumerate(plays) if other == play]) for play in held_out]


def probe_scores(features: Any, labels: Sequence[str], splits: Sequence[Split],
                 regularisation: float = 1.0) -> tuple[list[float], list[float]]:
    """Test accuracy of a logistic-regression probe per split, and the majority-label chance per split.

    ``features`` is ``(n, c)``; each feature is standardised on the training side only, so the
    few very large features a GPT has do not drown the rest. ``regularisation`` is scikit-learn's
    ``C`` (smaller: a simpler probe).
    """
    require_sklearn()
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    matrix = as_embedding_matrix(features, n_expected=len(labels))
    labels = np.asarray(labels)
    accuracies = []
    for train, test in splits:
        if set(train) & set(test):
            raise ValueError("a split has items on both sides; train and test must not overlap")
        if len(set(labels[train])) < 2:
            raise ValueError(f"a training side holds one label only ({labels[train][0]!r}); the probe needs two")
        probe = make_pipeline(StandardScaler(), LogisticRegression(C=regularisation, max_iter=2000))
        # One thread: scikit-learn's OpenMP workers spin while they wait (see compare_embeddings).
        with threadpool_limits(limits=1):
            probe.fit(matrix[train], labels[train])
            accuracies.append(float(np.mean(probe.predict(matrix[test]) == labels[test])))
    return accuracies, majority_chance(labels, splits)


def majority_chance(labels: Sequence[str], splits: Sequence[Split]) -> list[float]:
    """Per split, the test accuracy of always guessing the training side's most frequent label."""
    labels = np.asarray(labels)
    chances = []
    for train, test in splits:
        majority = Counter(labels[train].tolist()).most_common(1)[0][0]
        chances.append(float(np.mean(labels[test] == majority)))
    return chances
