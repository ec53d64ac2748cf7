"""Damaged training checkpoints (issue 20, item 12): clear errors, two generations kept, a checksum
that catches overwritten bytes, a fallback with a warning, no stale temporary files."""

from __future__ import annotations

import pytest
import torch
from test_training import _one_thread, make_config, new_trainer  # noqa: F401 (autouse fixture)

from minitransformers.training import checkpoint as ckpt




@pytest.fixture
def run(tmp_path):
    """A run that saved at steps 2 and 4: checkpoint.pt (4) and checkpoint.previous.pt (2)."""
    trainer = new_trainer(make_config(max_steps=8, checkpoint_every=2, output_dir=str(tmp_path)))
    trainer.train(until_step=4)
    return trainer, tmp_path / "checkpoint.pt"


def _overwrite_tensor_bytes(path, tensor: torch.Tensor, count: int = 256) -> None:
    """Overwrite ``count`` bytes inside ``tensor``'s stored data, as a bad disk or copy might."""
    data = bytearray(path.read_bytes())
    needle = tensor.detach().contiguous().view(torch.uint8).reshape(-1)[:64].numpy().tobytes()
    where = data.find(needle)
    assert where > 0, "the tensor's bytes were not found in the file"
    data[where : where + count] = b"\xff" * count  # 0xffffffff is a float32 NaN
    path.write_bytes(bytes(data))


def test_the_last_two_checkpoints_are_kept(run):
    _, path = run
    assert ckpt.read_checkpoint(path)["step"] == 4
    assert ckpt.read_checkpoint(ckpt.previous_path(path))["step"] == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.previous.pt", "checkpoint.pt"]


@pytest.mark.parametrize("damage, words", [
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), "cannot read"),
    (lambda p: p.write_bytes(b"garbage, not a checkpoint" * 40), "cannot read"),
])
def test_a_damaged_file_is_one_clear_error(run, damage, words):
    _, path = run
    ckpt.previous_path(path).unlink()
    damage(path)
    with pytest.raises(ckpt.DamagedCheckpointError, match=words) as error:
        ckpt.load_checkpoint(path)
    assert "damaged" in str(error.value) and error.value.__cause__ is None


def test_a_missing_entry_is_named(run):
    trainer, path = run
    state = torch.load(path, weights_only=True)
    del state["optimizer"]
    torch.save(state, path)
    with pytest.raises(ckpt.DamagedCheckpointError, match=r"lacks the entries \['optimizer'\]"):
        ckpt.read_checkpoint(path)


def test_overwritten_bytes_are_caught_by_the_checksum(run):
    trainer, path = run
    ckpt.previous_path(path).unlink()
    _overwrite_tensor_bytes(path, trainer.model.embed.weight)
    raw = torch.load(path, weights_only=True)  # unpickling alone does not notice
    assert torch.isnan(raw["model"]["embed.weight"]).any()
    with pytest.raises(ckpt.DamagedCheckpointError, match="checksum"):
        ckpt.load_checkpoint(path)


def test_a_damaged_latest_falls_back_to_the_previous_with_a_warning(run, tmp_path):
    trainer, path = run
    _overwrite_tensor_bytes(path, trainer.model.embed.weight)
    with pytest.warns(UserWarning, match="previous checkpoint"):
        assert ckpt.load_checkpoint(path)["step"] == 2
    # Resuming from the fallback finishes the run exactly as an uninterrupted one, with no NaN.
    straight = new_trainer(make_config(max_steps=8, output_dir=str(tmp_path / "straight")))
    straight.train()
    resumed = new_trainer(make_config(max_steps=8, checkpoint_every=2, output_dir=str(path.parent)), model_seed=7)
    with pytest.warns(UserWarning, match="previous checkpoint"):
        resumed.train(resume_from=path)
    for key, value in straight.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_both_damaged_says_so(run):
    _, path = run
    path.write_bytes(b"")
    ckpt.previous_path(path).write_bytes(b"x")
    with pytest.raises(ckpt.DamagedCheckpointError, match="previous checkpoint is damaged too"):
        ckpt.load_checkpoint(path)


def test_a_missing_latest_falls_back(run):
    _, path = run
    path.unlink()
    with pytest.warns(UserWarning):
        assert ckpt.load_checkpoint(path)["step"] == 2


def test_stale_temporary_files_are_removed_by_the_next_save(run):
    trainer, path = run
    stale = path.parent / ".checkpoint.pt.abc123.tmp"
    stale.write_bytes(b"half a checkpoint from a killed save")
    trainer.train(until_step=6)
    assert not stale.exists()
    assert ckpt.read_checkpoint(path)["step"] == 6


def test_extra_entries_are_carried_through(run, tmp_path):
    trainer, _ = run
    best = {"step": 3, "loss": 1.25, "weights": {"w": torch.arange(4.0)}}
    target = tmp_path / "extra" / "checkpoint.pt"
    ckpt.save_checkpoint(target, model=trainer.model, optimizer=trainer.optimizer, scheduler=trainer.scheduler,
                         step=4, config={}, rng_states=[], history=[], data_position={}, best=best)
    loaded = ckpt.load_checkpoint(target)
    assert loaded["best"]["step"] == 3 and loaded["best"]["loss"] == 1.25
    assert torch.equal(loaded["best"]["weights"]["w"], torch.arange(4.0))
    assert "checksum" not in loaded
