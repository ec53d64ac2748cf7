"""Damaged training checkpoints (issue 20, item 12): clear errors, two generations kept, a checksum
that catches overwritten bytes, a fallback with a warning, no stale temporary files. Issue 29
(items 7-9): a resume checks the architecture, a damaged file is moved aside, a full disk says so."""

from __future__ import annotations

import errno
import subprocess
import sys

import pytest
import torch
from test_training import _one_thread, make_config, make_data, new_trainer  # noqa: F401 (autouse fixture)

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.training import Trainer, seed_everything
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


# ----- issue 29, item 7: a resume checks the architecture, not only the shapes -------------------

def _gpt_trainer(output_dir, **model_changes):
    seed_everything(0)
    sizes = {"vocab_size": 50, "hidden_size": 16, "n_layers": 1, "n_heads": 2, "max_positions": 16}
    config = GPTConfig(**(sizes | model_changes))
    return Trainer(GPTLMHeadModel(config), make_data(),
                   make_config(max_steps=4, checkpoint_every=2, output_dir=str(output_dir)))


@pytest.mark.parametrize("changes, words", [
    ({"n_heads": 4}, r"\(n_heads is 2 there and 4 here\)"),
    ({"activation": "relu"}, r"\(activation is 'gelu_tanh' there and 'relu' here\)"),
    ({"n_heads": 4, "activation": "relu"}, r"activation is .*; n_heads is 2 there and 4 here"),
])
def test_resuming_into_another_architecture_of_the_same_shapes_names_the_fields(tmp_path, changes, words):
    _gpt_trainer(tmp_path).train(until_step=2)
    other = _gpt_trainer(tmp_path, **changes)  # every tensor has the shape of the saved ones
    with pytest.raises(ValueError, match=words):
        other.load_checkpoint()
    assert other.step == 0


def test_a_new_dropout_rate_resumes_with_a_warning(tmp_path):
    _gpt_trainer(tmp_path).train(until_step=2)
    other = _gpt_trainer(tmp_path, hidden_dropout=0.0)
    with pytest.warns(UserWarning, match=r"model\.hidden_dropout"):
        other.load_checkpoint()
    assert other.step == 2


def test_a_checkpoint_saved_without_a_model_config_still_resumes(tmp_path):
    _gpt_trainer(tmp_path).train(until_step=2)
    path = tmp_path / "checkpoint.pt"
    state = torch.load(path, weights_only=True)
    del state["model_config"], state["checksum"]  # as checkpoints were before issue 29
    torch.save(state, path)
    other = _gpt_trainer(tmp_path, n_heads=4)  # cannot be told apart without the saved config
    other.load_checkpoint()
    assert other.step == 2


# ----- item 8: the last good checkpoint is never lost ---------------------------------------------

def test_two_faults_in_a_row_still_resume_from_the_last_good_checkpoint(run):
    trainer, path = run  # checkpoint.pt holds step 4, checkpoint.previous.pt step 2
    _overwrite_tensor_bytes(path, trainer.model.embed.weight)  # fault 1
    resumed = new_trainer(make_config(max_steps=8, checkpoint_every=2, output_dir=str(path.parent)))
    with pytest.warns(UserWarning, match=rf"The damaged file is now {ckpt.damaged_path(path)}"):
        resumed.train(until_step=4, resume_from=path)  # back to step 2, then saves step 4 again
    assert ckpt.damaged_path(path).exists()
    assert ckpt.read_checkpoint(ckpt.previous_path(path))["step"] == 2  # the good one, not the damaged one
    _overwrite_tensor_bytes(path, resumed.model.embed.weight)  # fault 2, in the new latest
    with pytest.warns(UserWarning, match="previous checkpoint"):
        assert ckpt.load_checkpoint(path)["step"] == 2


# ----- item 9: a full disk gets a clear message, and the old checkpoint stays --------------------

_SAVE_UNDER_A_FILE_SIZE_LIMIT = """
import resource, sys
from pathlib import Path
import torch
from minitransformers.training import checkpoint as ckpt

path = Path(sys.argv[1])
model = torch.nn.Linear(128, 128)
optimizer = torch.optim.AdamW(model.parameters())
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
def save(step):
    ckpt.save_checkpoint(path, model=model, optimizer=optimizer, scheduler=scheduler, step=step, config={},
                         rng_states=[], history=[], data_position={})
save(1)
# Like a full disk: no file may grow past half a checkpoint (the one already there is not touched).
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size // 2, resource.RLIM_INFINITY))
try:
    save(2)
except Exception as error:
    print(type(error).__name__ + ": " + str(error))
"""


def test_a_write_that_hits_a_file_size_limit_says_so_and_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "checkpoint.pt"
    result = subprocess.run([sys.executable, "-c", _SAVE_UNDER_A_FILE_SIZE_LIMIT, str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"CheckpointWriteError: could not write the checkpoint {path}"), message
    assert "the file-size limit" in message and "unchanged" in message
    assert "enforce fail" not in message and "unexpected pos" not in message
    assert ckpt.read_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left


def test_a_full_disk_says_so_and_names_the_folder(run, monkeypatch):
    trainer, path = run

    def disk_full(obj, file):
        file.write(b"x" * 1000)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", disk_full)
    with pytest.raises(ckpt.CheckpointWriteError, match=r"a full disk .* unchanged; free some space") as error:
        trainer.save_checkpoint()
    assert str(path) in str(error.value)
    monkeypatch.undo()
    assert ckpt.read_checkpoint(path)["step"] == 4
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint.previous.pt", "checkpoint.pt"]
