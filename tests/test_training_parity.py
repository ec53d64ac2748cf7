"""Training our models is training transformers': same start, same batches, same AdamW, same run.

Forward parity (tests/test_pretrained_*.py) says one step's numbers agree.
This says a whole training run agrees: the backward pass, the weight-decay
groups of ``make_optimizer``, gradient clipping and the warm-up + cosine
schedule, over more than 20 steps, for BERT's pre-training (MLM + NSP) and
GPT's next-token loss. A last test runs the same steps through our
``Trainer`` (float32, no compile), which must not change what a step does.
"""

from __future__ import annotations

import pytest
import torch
import transformers
from torch import nn

from minitransformers import BertConfig, BertForPreTraining, GPTConfig, GPTLMHeadModel
from minitransformers.data import IGNORE_INDEX
from minitransformers.training import TrainConfig, Trainer, make_optimizer, make_scheduler, parameter_groups

STEPS, BATCH, LENGTH, DISTINCT = 24, 4, 16, 3
SETTINGS = dict(learning_rate=1e-3, weight_decay=0.1, betas=(0.9, 0.95))
WARMUP, MIN_LR_RATIO, CLIP = 4, 0.1, 1.0
LOSS_RTOL = 1e-5


def bert_batches(vocab_size: int) -> list[dict[str, torch.Tensor]]:
    """``STEPS`` pre-training batches (3 distinct ones in turn, so the loss falls): right padding,
    two segments, 15% labels, NSP labels."""
    generator = torch.Generator().manual_seed(1)
    batches = []
    for _ in range(DISTINCT):
        ids = torch.randint(5, vocab_size, (BATCH, LENGTH), generator=generator)
        lengths = torch.randint(LENGTH // 2, LENGTH + 1, (BATCH,), generator=generator)
        mask = (torch.arange(LENGTH) < lengths[:, None]).long()
        types = (torch.arange(LENGTH) >= lengths[:, None] // 2).long() * mask
        chosen = (torch.rand(BATCH, LENGTH, generator=generator) < 0.15) & mask.bool()
        chosen[:, 1] = True  # every row has a label
        labels = torch.where(chosen, ids, IGNORE_INDEX)
        ids = torch.where(chosen, torch.full_like(ids, 4), ids)  # 4 plays [MASK]
        batches.append({"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "labels": labels,
                        "next_sentence_label": torch.randint(0, 2, (BATCH,), generator=generator)})
    return [batches[step % DISTINCT] for step in range(STEPS)]


def gpt_batches(vocab_size: int) -> list[dict[str, torch.Tensor]]:
    """``STEPS`` next-token batches (3 distinct ones in turn); some labels are ignored, as padding would be."""
    generator = torch.Generator().manual_seed(2)
    batches = []
    for _ in range(DISTINCT):
        ids = torch.randint(0, vocab_size, (BATCH, LENGTH), generator=generator)
        labels = ids.clone()
        labels[0, LENGTH // 2:] = IGNORE_INDEX
        batches.append({"input_ids": ids, "labels": labels})
    return [batches[step % DISTINCT] for step in range(STEPS)]


def train_by_hand(model: nn.Module, batches: list[dict]) -> list[float]:
    """The step of our recipes, written out: AdamW groups, clipping, warm-up + cosine."""
    torch.manual_seed(0)
    optimizer = make_optimizer(model, **SETTINGS)
    scheduler = make_scheduler(optimizer, warmup_steps=WARMUP, max_steps=STEPS, min_lr_ratio=MIN_LR_RATIO)
    model.train()
    losses = []
    for batch in batches:
        optimizer.zero_grad(set_to_none=True)
        loss = model(**batch).loss
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), CLIP)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return losses


def assert_same_run(our_losses, their_losses, ours: nn.Module, theirs_loaded: nn.Module) -> None:
    assert len(our_losses) == len(their_losses) == STEPS
    relative = [abs(a - b) / abs(b) for a, b in zip(our_losses, their_losses)]
    worst = max(range(STEPS), key=relative.__getitem__)
    assert relative[worst] <= LOSS_RTOL, (
        f"step {worst}: loss {our_losses[worst]:.8f} vs {their_losses[worst]:.8f} (relative {relative[worst]:.1e})")
    assert our_losses[-1] < our_losses[0] - 0.5, "the run did not learn; the comparison would be too easy"
    theirs = theirs_loaded.state_dict()
    for name, value in ours.state_dict().items():
        noise_only = key_bias_entries(name, value)
        torch.testing.assert_close(value[~noise_only], theirs[name][~noise_only], atol=1e-5, rtol=1e-5,
                                   msg=lambda m, n=name: f"{n}: {m}")
        # A key bias adds q . b to every score of a query alike, which softmax ignores: its exact gradient
        # is zero, and what it gets is float rounding, different in every implementation (Adam even
        # rescales it). It cannot drift far from where both runs started, and that is all we check.
        torch.testing.assert_close(value[noise_only], theirs[name][noise_only], atol=1e-4, rtol=0)


def key_bias_entries(name: str, value: torch.Tensor) -> torch.Tensor:
    """True at the entries of ``name`` that are a key projection's bias (GPT fuses q, k, v in one)."""
    entries = torch.zeros(value.shape, dtype=torch.bool)
    if name.endswith("attention.key.bias"):
        entries[:] = True
    elif name.endswith("attention.qkv.bias"):
        width = value.shape[0] // 3
        entries[width:2 * width] = True
    return entries


def same_groups(ours: nn.Module, theirs: nn.Module) -> None:
    """The decayed and the non-decayed groups hold the same number of weights in both models."""
    def sizes(model):
        return [sum(p.numel() for p in group["params"]) for group in parameter_groups(model, 0.1)]

    assert sizes(ours) == sizes(theirs)
    assert min(sizes(ours)) > 0


# family -> (our class and config class, transformers' class)
FAMILIES = {"bert": (BertForPreTraining, BertConfig, transformers.BertForPreTraining),
            "gpt": (GPTLMHeadModel, GPTConfig, transformers.GPT2LMHeadModel)}


def same_start(family: str, folder):
    """Our tiny model (no dropout) and transformers' model loaded from what ours saved: the same weights."""
    our_class, config_class, their_class = FAMILIES[family]
    torch.manual_seed(0)
    ours = our_class(config_class.preset("tiny", vocab_size=97, hidden_dropout=0.0, attention_dropout=0.0))
    ours.save_pretrained(folder / "start")
    return ours, their_class.from_pretrained(folder / "start", attn_implementation="eager"), folder


@pytest.fixture
def bert_pair(tmp_path):
    return same_start("bert", tmp_path)


@pytest.fixture
def gpt_pair(tmp_path):
    return same_start("gpt", tmp_path)


def test_bert_pretraining_run_matches_transformers(bert_pair):
    ours, theirs, folder = bert_pair
    same_groups(ours, theirs)
    batches = bert_batches(ours.config.vocab_size)
    our_losses, their_losses = train_by_hand(ours, batches), train_by_hand(theirs, batches)
    theirs.save_pretrained(folder / "theirs")
    assert_same_run(our_losses, their_losses, ours, BertForPreTraining.from_pretrained(folder / "theirs"))


def test_gpt_run_matches_transformers(gpt_pair):
    ours, theirs, folder = gpt_pair
    same_groups(ours, theirs)
    batches = gpt_batches(ours.config.vocab_size)
    our_losses, their_losses = train_by_hand(ours, batches), train_by_hand(theirs, batches)
    theirs.save_pretrained(folder / "theirs")
    assert_same_run(our_losses, their_losses, ours, GPTLMHeadModel.from_pretrained(folder / "theirs"))


class OneBatchPerEpoch(torch.utils.data.Dataset):
    """Epoch ``e`` is exactly ``batches[e]``, so the Trainer's step ``e`` sees the hand-written loop's batch
    (in its own shuffled row order, which a mean loss does not see)."""

    def __init__(self, batches: list[dict]) -> None:
        self.batches, self.epoch = batches, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.batches[0]["input_ids"])

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        return {key: value[indices] for key, value in self.batches[self.epoch].items()}


@pytest.mark.parametrize("family", ["bert", "gpt"])
def test_trainer_takes_the_same_steps_as_transformers(family, tmp_path):
    ours, theirs, folder = same_start(family, tmp_path)
    batches = (bert_batches if family == "bert" else gpt_batches)(ours.config.vocab_size)
    config = TrainConfig(max_steps=STEPS, batch_size=BATCH, learning_rate=SETTINGS["learning_rate"],
                         min_learning_rate=SETTINGS["learning_rate"] * MIN_LR_RATIO, warmup_steps=WARMUP,
                         weight_decay=SETTINGS["weight_decay"], beta1=0.9, beta2=0.95, grad_clip=CLIP,
                         eval_every=0, log_every=1, device="cpu", progress=False, compile=False)
    history = Trainer(ours, OneBatchPerEpoch(batches), config).train()
    their_losses = train_by_hand(theirs, batches)
    theirs.save_pretrained(folder / "theirs")
    assert_same_run([row["loss"] for row in history], their_losses, ours,
                    type(ours).from_pretrained(folder / "theirs"))
