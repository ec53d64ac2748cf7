"""Tests for minitransformers/analysis: metrics, compare_embeddings, passages and plot."""

from __future__ import annotations

import itertools
import sys

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from minitransformers.analysis import (
    compare_embeddings,
    make_embedder,
    metrics,
    plot,
    shakespeare_passages,
)
from minitransformers.analysis.passages import DEFAULT_PLAYS, spoken_lines

# --- synthetic data -----------------------------------------------------------------------


def _blobs(
    n_per_label: int = 20, n_labels: int = 4, width: int = 16, noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, list[str]]:
    """Well separated clusters: each label's one-hot direction plus a little noise."""
    rng = np.random.default_rng(seed)
    labels = [f"label{k}" for k in range(n_labels) for _ in range(n_per_label)]
    centres = np.eye(n_labels, width)
    ids = np.repeat(np.arange(n_labels), n_per_label)
    return centres[ids] + noise * rng.normal(size=(len(ids), width)), labels


def _brute_force_nn_accuracy(x: np.ndarray, labels: list[str]) -> float:
    hits = 0
    for i in range(len(x)):
        best, best_similarity = None, -np.inf
        for j in range(len(x)):
            if j == i:
                continue
            similarity = x[i] @ x[j] / (np.linalg.norm(x[i]) * np.linalg.norm(x[j]))
            if similarity > best_similarity:
                best, best_similarity = j, similarity
        hits += labels[best] == labels[i]
    return hits / len(x)


def _brute_force_silhouette(x: np.ndarray, labels: list[str]) -> float:
    def distance(i, j):
        return 1 - x[i] @ x[j] / (np.linalg.norm(x[i]) * np.linalg.norm(x[j]))

    scores = []
    for i in range(len(x)):
        own = [distance(i, j) for j in range(len(x)) if j != i and labels[j] == labels[i]]
        if not own:  # a label with a single member scores 0 by convention
            scores.append(0.0)
            continue
        a = np.mean(own)
        b = min(
            np.mean([distance(i, j) for j in range(len(x)) if labels[j] == other])
            for other in set(labels) - {labels[i]}
        )
        scores.append((b - a) / max(a, b))
    return float(np.mean(scores))


# --- metrics ------------------------------------------------------------------------------


def test_separated_clusters_score_perfectly():
    x, labels = _blobs()
    assert metrics.nearest_neighbour_accuracy(x, labels) == 1.0
    assert metrics.adjusted_rand_index([int(label[-1]) for label in labels], labels) == 1.0
    assert metrics.silhouette(x, labels) > 0.9


def test_nn_accuracy_matches_brute_force_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    labels = [str(k) for k in rng.integers(0, 3, size=40)]
    assert metrics.nearest_neighbour_accuracy(x, labels) == pytest.approx(
        _brute_force_nn_accuracy(x, labels)
    )


def test_nearest_neighbours_match_scikit_learn():
    from sklearn.neighbors import NearestNeighbors

    x = np.random.default_rng(2).normal(size=(30, 6))
    finder = NearestNeighbors(n_neighbors=2, metric="cosine").fit(x)
    _, indices = finder.kneighbors(x)
    assert (metrics.nearest_neighbours(x) == indices[:, 1]).all()  # column 0 is the item itself


def test_nearest_neighbours_ignore_length():
    x = np.array([[1.0, 0.0], [100.0, 1.0], [0.0, 1.0]])
    # by Euclidean distance item 0 is nearest to item 2; by direction, to item 1
    assert metrics.nearest_neighbours(x).tolist() == [1, 0, 1]


def test_silhouette_matches_hand_computation_and_scikit_learn():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(15, 4))
    labels = ["a"] * 6 + ["b"] * 5 + ["c"] * 3 + ["d"]
    assert metrics.silhouette(x, labels) == pytest.approx(_brute_force_silhouette(x, labels))


def test_adjusted_rand_index_hand_computed():
    # contingency table gives index 1, expected 1/3, maximum 3/2: (1 - 1/3) / (3/2 - 1/3) = 4/7
    assert metrics.adjusted_rand_index([0, 0, 1, 2], [0, 0, 1, 1]) == pytest.approx(4 / 7)
    # cluster ids are arbitrary names: a relabelled perfect clustering still scores 1
    assert metrics.adjusted_rand_index([5, 5, 2, 2], ["x", "x", "y", "y"]) == 1.0


def test_random_clustering_has_ari_near_zero():
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 5, size=2000)
    clusters = rng.integers(0, 5, size=2000)
    assert abs(metrics.adjusted_rand_index(clusters, labels)) < 0.01


def test_majority_labels_and_misplaced_items_by_hand():
    labels = ["dog", "dog", "dog", "coffee", "coffee", "coffee"]
    clusters = [0, 0, 0, 1, 1, 0]  # item 5 (coffee) sits in the dog cluster
    assert metrics.cluster_majority_labels(clusters, labels) == {0: "dog", 1: "coffee"}
    assert metrics.misplaced_by_cluster(clusters, labels) == [5]
    neighbours = [1, 0, 3, 4, 3, 2]  # items 2 and 5 have a neighbour of the other label
    assert metrics.misplaced_by_neighbour(neighbours, labels) == [2, 5]


def test_bad_embeddings_get_actionable_errors():
    with pytest.raises(ValueError, match=r"shape \(n, c\)"):
        metrics.as_embedding_matrix(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="expected 5 embeddings"):
        metrics.as_embedding_matrix(np.zeros((4, 3)), n_expected=5)
    with pytest.raises(ValueError, match="NaN"):
        metrics.as_embedding_matrix(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="one label per row"):
        metrics.nearest_neighbour_accuracy(np.zeros((4, 2)), ["a", "b"])


def test_missing_scikit_learn_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match=r"minitransformers\[analysis\]"):
        metrics.require_sklearn()


# --- compare_embeddings -------------------------------------------------------------------

PLANTED = {3: 1, 25: 2, 47: 0}  # item -> the label whose direction we give it instead


def _embedders(noise: float = 0.05):
    """A good embedder (label one-hot + noise, three planted errors) and a random one."""
    good, labels = _blobs(noise=noise)
    centres = np.eye(4, 16)
    for item, wrong_label in PLANTED.items():  # keep its noise, move it to another label's centre
        good[item] += centres[wrong_label] - centres[int(labels[item][-1])]
    random = np.random.default_rng(5).normal(size=good.shape)
    texts = [f"text {i}" for i in range(len(labels))]
    embedders = {"random": lambda t: random, "good": lambda t: torch.tensor(good)}
    return texts, labels, embedders


def test_good_embedder_beats_random_on_every_metric():
    texts, labels, embedders = _embedders()
    result = compare_embeddings(texts, labels, embedders, tsne=False)
    good, random = result["good"], result["random"]
    for metric in ("nn_accuracy", "ari", "silhouette"):
        assert getattr(good, metric) > getattr(random, metric) + 0.3, metric
    assert abs(random.ari) < 0.1


def test_planted_misplaced_points_are_found_and_flags_called_out():
    texts, labels, embedders = _embedders()
    flags = [i == 25 for i in range(len(texts))]
    result = compare_embeddings(texts, labels, embedders, confusable=flags, tsne=False)
    good = result["good"]
    misplaced = {point.index: point for point in good.misplaced}
    by_cluster = {i for i, point in misplaced.items() if point.cluster_label is not None}
    by_neighbour = {i for i, point in misplaced.items() if point.neighbour_label is not None}
    assert by_cluster == set(PLANTED)
    # a planted item's neighbours are of the wrong label; it can also be the neighbour of others
    assert by_neighbour == set(PLANTED) | {i for i, j in enumerate(good.neighbours) if j in PLANTED}
    for item, wrong_label in PLANTED.items():
        assert misplaced[item].cluster_label == f"label{wrong_label}"
        assert misplaced[item].neighbour_label == f"label{wrong_label}"
        assert misplaced[item].text == texts[item]
        assert misplaced[item].confusable == (item == 25)
    assert good.nn_accuracy == pytest.approx(1 - len(by_neighbour) / len(texts))
    report = result.misplaced_report("good")
    assert report.splitlines()[1].startswith("* #25")  # flagged items come first, marked


def test_table_and_rows_sorted_by_chosen_metric():
    texts, labels, embedders = _embedders()
    result = compare_embeddings(texts, labels, embedders, tsne=False)
    rows = result.to_rows("ari")
    assert [row["embedder"] for row in rows] == ["good", "random"]  # insertion order was reversed
    assert set(rows[0]) >= {"embedder", "width", "nn_accuracy", "ari", "silhouette", "misplaced"}
    table = result.table("silhouette").splitlines()
    assert table[2].startswith("good") and table[3].startswith("random")
    with pytest.raises(ValueError, match="sort_by"):
        result.table("accuracy")


def test_same_seed_same_result_and_default_cluster_count():
    texts, labels, embedders = _embedders(noise=0.6)
    first = compare_embeddings(texts, labels, embedders, tsne=False, seed=3)
    second = compare_embeddings(texts, labels, embedders, tsne=False, seed=3)
    assert (first["good"].clusters == second["good"].clusters).all()
    assert first.to_rows() == second.to_rows()
    assert len(set(first["random"].clusters.tolist())) == 4  # one cluster per label
    fewer = compare_embeddings(texts, labels, embedders, n_clusters=2, tsne=False)
    assert len(set(fewer["good"].clusters.tolist())) == 2


def test_tsne_gives_finite_2d_points_even_for_few_items():
    texts, labels = [f"t{i}" for i in range(12)], ["a", "b", "c"] * 4
    result = compare_embeddings(texts, labels, {"good": lambda t: np.eye(12)}, tsne=True)
    assert result["good"].points_2d.shape == (12, 2)
    assert np.isfinite(result["good"].points_2d).all()


def test_compare_embeddings_rejects_bad_input():
    texts, labels, embedders = _embedders()
    with pytest.raises(ValueError, match="one per text"):
        compare_embeddings(texts, labels[:-1], embedders, tsne=False)
    with pytest.raises(ValueError, match="expected 80 embeddings"):
        compare_embeddings(texts, labels, {"short": lambda t: np.zeros((3, 4))}, tsne=False)
    with pytest.raises(ValueError, match="embedders is empty"):
        compare_embeddings(texts, labels, {}, tsne=False)
    with pytest.raises(KeyError, match="this comparison has"):
        compare_embeddings(texts, labels, embedders, tsne=False)["bert"]


def test_make_embedder_wraps_sentence_embeddings_lazily():
    from minitransformers.config import GPTConfig
    from minitransformers.inference import sentence_embeddings
    from minitransformers.models import GPTModel
    from minitransformers.tokenizers.char import CharTokenizer

    texts = ["my dog loves it", "great coffee", "too loud"]
    tokenizer = CharTokenizer.from_text("".join(texts), special_tokens={"pad": "<pad>"})
    model = GPTModel(GPTConfig.preset("tiny", vocab_size=len(tokenizer.vocab))).eval()
    embed = make_embedder(model, tokenizer, pooling="last")
    expected = sentence_embeddings(model, tokenizer, texts, pooling="last")
    assert torch.allclose(embed(texts), expected)
    assert expected.shape == (3, model.config.hidden_size)
    lazy = make_embedder(None, None)  # nothing runs until the embedder is called
    with pytest.raises(TypeError, match="BERT or GPT"):
        lazy(texts)


# --- plot ---------------------------------------------------------------------------------


def test_plot_draws_one_panel_per_embedder_and_needs_tsne():
    texts, labels, embedders = _embedders()
    flags = [i in PLANTED for i in range(len(texts))]
    result = compare_embeddings(
        texts[:30], labels[:30], _first_rows(embedders, 30), confusable=flags[:30], tsne=True
    )
    fig = plot(result)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    single = plot(result, "good", annotate="confusable", color_by="cluster")
    assert len(single.axes) == 1
    numbers = [text.get_text() for text in single.axes[0].texts if text.get_text().isdigit()]
    assert numbers == [str(i) for i in range(1, min(8, sum(flags[:30])) + 1)]  # numbered on the map
    key = single.axes[0].texts[-1].get_text()  # ... and written out, with the true label, below it
    first = flags[:30].index(True)
    assert key.startswith(f"1. ({labels[first]}) {texts[first][:20]}")
    no_map = compare_embeddings(texts, labels, embedders, tsne=False)
    with pytest.raises(ValueError, match="tsne=True"):
        plot(no_map, "good")


def _first_rows(embedders, n):
    """The same embedders cut to the first ``n`` rows."""
    return {name: (lambda t, f=embed: f(t)[:n]) for name, embed in embedders.items()}


# --- Shakespeare passages -----------------------------------------------------------------


@pytest.fixture(scope="module")
def works() -> dict[str, str]:
    from minitransformers.data.shakespeare import load_works

    return load_works()


def test_passages_are_deterministic_labelled_and_not_empty(works):
    passages = shakespeare_passages(per_play=15, works=works)
    assert passages == shakespeare_passages(per_play=15, works=works)
    assert passages != shakespeare_passages(per_play=15, seed=1, works=works)
    assert [p.play for p in passages] == [play for play in DEFAULT_PLAYS for _ in range(15)]
    for passage in passages:
        lines = passage.text.split("\n")
        assert len(lines) == 4 and all(line.strip() for line in lines)
        assert len(passage.text) >= 80


def test_passages_do_not_overlap_and_carry_no_stage_directions(works):
    passages = shakespeare_passages(["Macbeth", "Hamlet"], per_play=30, works=works)
    for play in ("Macbeth", "Hamlet"):
        starts = sorted(p.first_line for p in passages if p.play == play)
        assert all(b - a >= 4 for a, b in itertools.pairwise(starts))
    text = "\n".join(p.text for p in passages)
    assert "[" not in text and "Enter " not in text
    # speaker tags ("MACBETH.", "Ham.") are gone: every line has lower-case letters
    assert all(any(c.islower() for c in line) for line in text.split("\n"))


def test_spoken_lines_drop_tags_headings_and_directions():
    play = (
        "THE PLAY\n\nPERSONS REPRESENTED.\nA King.\n\nACT I.\n\nSCENE I. A heath.\n\n"
        "[Enter two Witches.]\n\nFIRST WITCH.\nWhen shall we meet? [Thunder.]\nIn rain.\n\n"
        "Sec. Witch.\nUpon the heath.\n\n[Exeunt.]\n"
    )
    assert spoken_lines(play) == ["When shall we meet?", "In rain.", "Upon the heath."]


def test_unknown_play_and_too_many_passages_are_explained(works):
    with pytest.raises(KeyError, match="choose among"):
        shakespeare_passages(["Hamlet II"], works=works)
    with pytest.raises(ValueError, match="ask for fewer"):
        shakespeare_passages(["Macbeth"], per_play=10_000, works=works)
