"""Tests for the trainer's fast data path, sparse logging and the best-step memory."""

from __future__ import annotations

import pytest
import torch

from minitransformers.data import IGNORE_INDEX, CausalLMDataset, MaskedLMDataset
from minitransformers.training import TrainConfig, Trainer, seed_everything
from minitransformers.training.optim import make_optimizer
from tests.test_training import TinyLM, _one_thread, make_config, make_data, new_trainer  # noqa: F401 (fixture)


def _stack(dataset, indices):
    items = [dataset[int(i)] for i in indices]
    return {key: torch.stack([item[key] for item in items]) for key in items[0]}


@pytest.mark.parametrize("stride", [None, 1, 3])
def test_causal_batch_equals_stacked_items(stride):
    ids = torch.randint(100, (257,), generator=torch.Generator().manual_seed(0))
    dataset = CausalLMDataset(ids, block_size=16, stride=stride)
    indices = torch.tensor([0, len(dataset) - 1, 5, -1, 2])
    batch = dataset.batch(indices)
    for key, value in _stack(dataset, indices).items():
        assert torch.equal(batch[key], value), key
    # every window is a contiguous slice of the stream at its own start
    start = 5 * dataset.stride
    assert torch.equal(batch["input_ids"][2], ids[start : start + 16])
    with pytest.raises(IndexError, match="block indices"):
        dataset.batch(torch.tensor([len(dataset)]))


def _segments(n_documents=3, per_document=6, seed=0):
    generator = torch.Generator().manual_seed(seed)
    segments, documents = [], []
    for document in range(n_documents):
        for _ in range(per_document):
            length = int(torch.randint(3, 12, (), generator=generator))
            # each document uses its own id range, so a test can tell where a token came from
            segments.append(torch.randint(10 + 100 * document, 10 + 100 * document + 90, (length,),
                                          generator=generator))
            documents.append(document)
    return segments, documents


def _mlm(segments, documents=None, **changes):
    options = dict(block_size=40, cls_token_id=1, sep_token_id=2, pad_token_id=0, mask_token_id=3,
                   vocab_size=400, next_sentence=True, seed=0, documents=documents)
    return MaskedLMDataset(segments, **(options | changes))


def test_mlm_fill_packs_consecutive_segments_of_one_document():
    segments, documents = _segments()
    dataset = _mlm(segments, documents, fill=True, mask_probability=0.0)
    plain = _mlm(segments, documents, fill=False, mask_probability=0.0)
    filled = dataset.batch(torch.arange(len(dataset)))
    unfilled = plain.batch(torch.arange(len(plain)))
    # packing gives more real tokens per example
    assert filled["attention_mask"].sum() > 1.3 * unfilled["attention_mask"].sum()
    for row, is_random in zip(filled["input_ids"], filled["next_sentence_label"]):
        sep = (row == 2).nonzero().flatten()
        a, b = row[1 : sep[0]], row[sep[0] + 1 : sep[1]]
        assert (a // 100 == a[0] // 100).all()  # a never crosses a document's end
        same_document = bool(b[0] // 100 == a[0] // 100)
        assert same_document != bool(is_random)  # a random b always comes from another document


def test_mlm_batch_is_deterministic_and_items_agree():
    segments, documents = _segments()
    dataset = _mlm(segments, documents, fill=True)
    first, again = dataset.batch(torch.tensor([4, 1, 7])), dataset.batch(torch.tensor([4, 1, 7]))
    for key in first:
        assert torch.equal(first[key], again[key])
    single = dataset[4]
    for key, value in dataset.batch(torch.tensor([4])).items():
        assert torch.equal(single[key], value[0])
    dataset.set_epoch(1)
    assert not torch.equal(dataset.batch(torch.tensor([4, 1, 7]))["input_ids"], first["input_ids"])


def test_evaluation_masking_replaces_every_selected_token_with_mask():
    segments, documents = _segments(per_document=20)
    dataset = _mlm(segments, documents, fill=True, replace_shares=(1.0, 0.0, 0.0), mask_probability=0.5)
    batch = dataset.batch(torch.arange(len(dataset)))
    selected = batch["labels"] != IGNORE_INDEX
    assert selected.sum() > 50
    assert (batch["input_ids"][selected] == 3).all()
    training = _mlm(segments, documents, fill=True, mask_probability=0.5).batch(torch.arange(len(dataset)))
    chosen = training["labels"] != IGNORE_INDEX
    assert 0.6 < (training["input_ids"][chosen] == 3).float().mean() < 0.95  # about 80%
    with pytest.raises(ValueError, match="replace_shares"):
        _mlm(segments, documents, replace_shares=(0.5, 0.1, 0.1))


def test_sparse_logging_averages_the_steps_of_each_interval():
    every_step = new_trainer(make_config(eval_every=0)).train()
    sparse = new_trainer(make_config(eval_every=0, log_every=4)).train()
    assert [row["step"] for row in sparse] == [4, 8, 12]
    for row in sparse:
        window = [r["loss"] for r in every_step if row["step"] - 4 < r["step"] <= row["step"]]
        assert row["loss"] == pytest.approx(sum(window) / 4, rel=1e-6)


def test_keep_best_restores_the_lowest_evaluation():
    trainer = new_trainer(make_config(max_steps=12, eval_every=2, keep_best=True))
    history = trainer.train()
    evaluations = [(row["eval_loss"], row["step"]) for row in history if "eval_loss" in row]
    best_loss, best_step = min(evaluations)
    assert trainer.best == {"step": best_step, "loss": best_loss}
    assert trainer.restore_best() == best_step
    assert trainer.evaluate() == pytest.approx(best_loss, rel=1e-6)
    with pytest.raises(ValueError, match="keep_best"):
        new_trainer(make_config(max_steps=4)).restore_best()


def test_best_step_survives_a_resume(tmp_path):
    # A learning rate this high makes the evaluation loss go up and down, so the best
    # step is somewhere in the middle and a resumed run must remember it.
    changes = dict(max_steps=12, eval_every=2, keep_best=True, learning_rate=0.3, min_learning_rate=0.3,
                   warmup_steps=0)
    straight = new_trainer(make_config(output_dir=str(tmp_path / "a"), **changes))
    straight.train()
    first = new_trainer(make_config(output_dir=str(tmp_path / "b"), checkpoint_every=2, **changes))
    first.train(until_step=8)
    del first
    resumed = new_trainer(make_config(output_dir=str(tmp_path / "b"), **changes), model_seed=5)
    resumed.train(resume_from=tmp_path / "b" / "checkpoint.pt")
    assert resumed.best == straight.best
    assert resumed.best["step"] < 12 or straight.history[-1]["eval_loss"] == straight.best["loss"]
    resumed.restore_best()
    straight.restore_best()
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "foreach"])
def test_adamw_is_deterministic_run_to_run(fused):
    def run():
        seed_everything(0)
        model = TinyLM(dropout=0.0)
        optimizer = make_optimizer(model, learning_rate=1e-2, weight_decay=0.1, fused=fused)
        assert optimizer.defaults["fused" if fused else "foreach"] is True
        data = make_data()
        for step in range(5):
            optimizer.zero_grad()
            model(**data.batch(torch.arange(step * 4, step * 4 + 4))).loss.backward()
            optimizer.step()
        return model.state_dict()

    first, second = run(), run()
    for key, value in first.items():
        assert torch.equal(second[key], value), key


def test_adamw_is_fused_on_the_cpu_and_foreach_where_torch_has_no_fused_kernel():
    optimizer = make_optimizer(TinyLM(), learning_rate=1e-3, weight_decay=0.1)
    assert optimizer.defaults["fused"] is True and not optimizer.defaults["foreach"]
    with torch.device("meta"):  # a device without a fused AdamW in torch (as Apple's MPS was)
        elsewhere = make_optimizer(TinyLM(), learning_rate=1e-3, weight_decay=0.1)
    assert elsewhere.defaults["foreach"] is True and not elsewhere.defaults["fused"]
    # Both make the same update, to rounding.
    results = []
    for fused in (True, False):
        seed_everything(0)
        model = TinyLM(dropout=0.0)
        optimizer = make_optimizer(model, learning_rate=1e-2, weight_decay=0.1, fused=fused)
        for step in range(3):
            optimizer.zero_grad()
            model(**make_data().batch(torch.arange(step * 4, step * 4 + 4))).loss.backward()
            optimizer.step()
        results.append(model.state_dict())
    for key, value in results[0].items():
        torch.testing.assert_close(results[1][key], value, atol=1e-6, rtol=1e-5, msg=key)


@pytest.mark.slow
def test_compiled_training_matches_eager():
    pytest.importorskip("torch._inductor")

    def losses(compile_model: bool):
        seed_everything(0)
        trainer = Trainer(TinyLM(dropout=0.0), make_data(), TrainConfig(
            max_steps=4, batch_size=4, learning_rate=1e-2, min_learning_rate=1e-3, warmup_steps=1,
            eval_every=0, progress=False, device="cpu", compile=compile_model))
        return [row["loss"] for row in trainer.train()]

    assert losses(True) == pytest.approx(losses(False), rel=1e-4)


def test_random_windows_resume_exactly(tmp_path):
    # stride 1: every offset is an example, so the shuffled order gives nanoGPT-style random windows
    def trainer(directory, seed=0):
        seed_everything(seed)
        data = CausalLMDataset(torch.randint(50, (300,), generator=torch.Generator().manual_seed(0)), 8, stride=1)
        return Trainer(TinyLM(0.1), data, make_config(output_dir=str(tmp_path / directory), checkpoint_every=3,
                                                      eval_every=0))

    expected = trainer("straight").train()
    first = trainer("resumed")
    first.train(until_step=6)
    resumed = trainer("resumed", seed=9)
    history = resumed.train(resume_from=tmp_path / "resumed" / "checkpoint.pt")
    assert [row["loss"] for row in history] == [row["loss"] for row in expected]


def test_packed_pairs_give_no_length_cue_and_keep_paragraph_breaks():
    segments, documents = _segments(n_documents=4, per_document=30, seed=1)
    dataset = _mlm(segments, documents, fill=True, mask_probability=0.0, block_size=80, joiner=[5])
    batch = dataset.batch(torch.arange(len(dataset)))
    a_lengths, labels = [], batch["next_sentence_label"]
    for row in batch["input_ids"]:
        sep = (row == 2).nonzero().flatten()
        a = row[1 : sep[0]]
        a_lengths.append(len(a))
        pieces = [piece for piece in torch.tensor_split(a, (a == 5).nonzero().flatten()) if len(piece)]
        assert all(len(piece) > 1 or piece[0] != 5 for piece in pieces)  # 5 only ever joins segments
    a_lengths = torch.tensor(a_lengths, dtype=torch.float)
    assert (batch["input_ids"] == 5).any()  # packed segments are joined by the joiner
    # a's length varies, and it is about the same for true and random pairs
    assert a_lengths.std() > 3
    assert abs(a_lengths[labels == 0].mean() - a_lengths[labels == 1].mean()) < 0.25 * a_lengths.mean()
    assert 0.35 < labels.float().mean() < 0.65


def _gpt_trainer(token_ids: torch.Tensor) -> Trainer:
    from minitransformers import GPTConfig, GPTLMHeadModel

    model = GPTLMHeadModel(GPTConfig.preset("tiny", hidden_dropout=0.0, attention_dropout=0.0))
    config = TrainConfig(max_steps=2, batch_size=4, learning_rate=1e-3, min_learning_rate=1e-4, warmup_steps=1,
                         eval_every=0, progress=False, device="cpu")
    return Trainer(model, CausalLMDataset(token_ids, 16), config)


def test_batches_checked_on_the_host_spare_the_model_reading_its_inputs(monkeypatch):
    # On a GPU the trainer checks each batch on the CPU, so the model's forward need not read
    # the ids back from the device (a wait at every step). Forced here on the CPU.
    trainer = _gpt_trainer(torch.randint(0, 1000, (400,)))
    assert trainer._check_on_host is False  # CPU: the model checks by itself, for free
    trainer._check_on_host = True
    reads = []
    original = torch.aminmax
    monkeypatch.setattr(torch, "aminmax", lambda tensor, **kw: reads.append(tensor.shape) or original(tensor, **kw))
    trainer.train()
    assert reads == [(4, 16)] * 2  # one read per step, of the CPU batch in the trainer, none in the model


def test_a_bad_batch_checked_on_the_host_is_one_clear_error():
    token_ids = torch.randint(0, 1000, (400,))
    token_ids[5] = 5000  # past the tiny preset's 1000-token vocabulary
    trainer = _gpt_trainer(token_ids)
    trainer._check_on_host = True
    with pytest.raises(ValueError, match="input_ids contains 5000, outside the vocabulary"):
        trainer.evaluate(CausalLMDataset(token_ids, 16))


def test_inside_values_checked_elsewhere_the_model_skips_its_value_checks():
    from minitransformers import GPTConfig, GPTLMHeadModel
    from minitransformers.models.base import values_checked_elsewhere

    model = GPTLMHeadModel(GPTConfig.preset("tiny")).eval()
    ids = torch.tensor([[1, 2, 1000]])  # 1000 is one past the vocabulary
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model(ids)
    with values_checked_elsewhere(), pytest.raises(IndexError):  # unchecked: torch's own error
        model(ids)
    with pytest.raises(ValueError, match="outside the vocabulary"):  # the context ended
        model(ids)
