"""interpret/ given bad input (issue 36, items 1-10; the head detectors' 5 and 9 are in
test_hardening_interpret_detectors.py): one clear line naming the argument, never a silent answer.

Small random models; the expected numbers come from plain indexing of the
models' own logits or from patterns built by hand, never from the code
under test.
"""

from __future__ import annotations

import pytest
import torch

from minitransformers import (
    BertConfig, BertForMaskedLM, GPTConfig, GPTLMHeadModel, hooks, patch_from, run_with_cache,
)
from minitransformers.interpret import (
    Patch, attention_patterns, direct_logit_attribution, logit_difference, logit_lens, model_parts, patch_activations,
    patch_one,
)

V, T = 41, 6


def _randomised(model):
    torch.manual_seed(3)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
            if parameter.dim() == 1:
                parameter.add_(1.0)
    return model.eval()


def _gpt(hidden_size: int = 24) -> GPTLMHeadModel:
    return _randomised(GPTLMHeadModel(GPTConfig(vocab_size=V, hidden_size=hidden_size, n_layers=2, n_heads=3,
                                                intermediate_size=32, max_positions=16)))


def _bert() -> BertForMaskedLM:
    return _randomised(BertForMaskedLM(BertConfig(vocab_size=V, hidden_size=24, n_layers=2, n_heads=3,
                                                  intermediate_size=32, max_positions=16)))


def _pair(b: int = 1, t: int = T):
    clean = torch.randint(5, V, (b, t), generator=torch.Generator().manual_seed(4))
    corrupted = clean.clone()
    corrupted[:, 1] = (clean[:, 1] + 7) % V
    return clean, corrupted


def _metric(logits):
    return logits[:, -1, 5].mean() - logits[:, -1, 9].mean()


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    return message


# ----- item 1: batch_size ------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size, error", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                               (True, TypeError)])
def test_a_batch_size_that_is_not_a_positive_int_is_named(batch_size, error):
    with pytest.raises(error) as raised:
        patch_activations(_gpt(), *_pair(), _metric, batch_size=batch_size)
    assert "batch_size" in _one_line(raised) and "positive" in str(raised.value)


# ----- item 2: the metric's ids and position -----------------------------------------------------

LOGITS = torch.randn(2, T, V, generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("arguments, error, words", [
    (dict(target=V, foil=9), ValueError, ["target", f"0 to {V - 1}"]),
    (dict(target=5, foil=V + 3), ValueError, ["foil", f"0 to {V - 1}"]),
    (dict(target=-1, foil=9), ValueError, ["target", "negative"]),  # would wrap to the last vocabulary entry
    (dict(target=5, foil=-2), ValueError, ["foil", "negative"]),
    (dict(target=5, foil=9, position=T), IndexError, ["position", f"{T} tokens"]),
    (dict(target=5, foil=9, position=-T - 1), IndexError, ["position", f"{T} tokens"]),
    (dict(target=torch.tensor([5, 6, 7]), foil=9), ValueError, ["target", "(batch,)", "(3,)"]),
    (dict(target=2.0, foil=9), TypeError, ["target", "int"]),
    (dict(target=torch.tensor([5.0, 6.0]), foil=9), TypeError, ["target", "integer"]),
], ids=["target past the vocabulary", "foil past the vocabulary", "negative target", "negative foil",
        "position past the end", "position before the start", "targets of the wrong shape", "float target",
        "float tensor target"])
def test_logit_difference_names_a_bad_id_or_position(arguments, error, words):
    with pytest.raises(error) as raised:
        logit_difference(**{"position": -1, **arguments})(LOGITS)
    message = _one_line(raised)
    assert all(word in message for word in words), message


def test_logit_difference_with_one_target_per_input_scores_each_inputs_own():
    metric = logit_difference(torch.tensor([5, 6]), 9, position=2)
    expected = ((LOGITS[0, 2, 5] - LOGITS[0, 2, 9]) + (LOGITS[1, 2, 6] - LOGITS[1, 2, 9])) / 2
    torch.testing.assert_close(metric(LOGITS), expected)


# ----- item 3: direct logit attribution, and one check shared with the metric and the logit lens ----

@pytest.mark.parametrize("arguments, error, words", [
    (dict(target=V, foil=9), ValueError, ["target", f"0 to {V - 1}"]),
    (dict(target=5, foil=V), ValueError, ["foil", f"0 to {V - 1}"]),
    (dict(target=-1, foil=9), ValueError, ["target", "negative"]),
    (dict(target=5, foil=9, position=T), IndexError, ["position", f"{T} tokens"]),
    (dict(target=torch.tensor([5, 6, 7]), foil=9), ValueError, ["target", "(batch,)", "(3,)"]),
    (dict(target=2.0, foil=9), TypeError, ["target", "int"]),
    (dict(target=5, foil=9, position=2.0), TypeError, ["position", "int"]),
], ids=["target past the vocabulary", "foil past the vocabulary", "negative target", "position past the end",
        "targets of the wrong shape", "float target", "float position"])
def test_direct_logit_attribution_names_a_bad_id_or_position(arguments, error, words):
    with pytest.raises(error) as raised:
        direct_logit_attribution(_gpt(), _pair(2)[0], **arguments)
    message = _one_line(raised)
    assert all(word in message for word in words), message


def test_direct_logit_attribution_with_one_target_per_input_splits_each_inputs_own():
    model, ids = _gpt(), _pair(2)[0]
    attribution = direct_logit_attribution(model, ids, target=torch.tensor([5, 6]), foil=9, position=3)
    with torch.no_grad():
        logits = model(ids).logits[:, 3]
    expected = torch.stack([logits[0, 5] - logits[0, 9], logits[1, 6] - logits[1, 9]])
    torch.testing.assert_close(attribution.total(), expected, atol=1e-4, rtol=0)


def test_the_metric_attribution_and_logit_lens_refuse_an_id_in_the_same_words():
    model, ids = _gpt(), _pair(2)[0]
    messages = []
    for call in (lambda: logit_difference(V, 9, -1)(LOGITS), lambda: direct_logit_attribution(model, ids, V, 9),
                 lambda: logit_lens(model, ids).target_rank(V)):
        with pytest.raises(ValueError) as raised:
            call()
        messages.append(_one_line(raised))
    assert messages[0] == messages[1] == messages[2] and "target" in messages[0], messages


# ----- item 4: the clean cache must come from this model and an input of the corrupted one's shape ----

@pytest.mark.parametrize("kind, patch", [("resid_pre", Patch(0, 2)), ("resid_pre", Patch(1)),
                                         ("head_outputs", Patch(0, 2, head=1)), ("v", Patch(1, None, head=0))],
                         ids=["one position", "all positions", "one head at one position", "one head everywhere"])
@pytest.mark.parametrize("source", ["longer input", "shorter input", "wider model", "batch of two"])
def test_patch_one_refuses_a_cache_from_another_input_or_model(kind, patch, source):
    model, (_, corrupted) = _gpt(), _pair()
    clean, maker = {"longer input": (_pair(t=T + 1)[0], model), "shorter input": (_pair(t=T - 2)[0], model),
                    "wider model": (_pair()[0], _gpt(hidden_size=36)), "batch of two": (_pair(2)[0], model)}[source]
    _, cache = run_with_cache(maker, clean)
    with pytest.raises(ValueError) as raised:
        patch_one(model, corrupted, cache, kind, patch, _metric)
    message = _one_line(raised)
    assert "clean_cache" in message and "run_with_cache(model, clean_ids)" in message, message


# ----- item 6: a NaN metric is an error that names the first patch giving it ---------------------------

def _patched_logits(model, clean, corrupted, patch: Patch) -> torch.Tensor:
    _, cache = run_with_cache(model, clean)
    hook = patch_from(cache, None if patch.position is None else [patch.position])
    with torch.no_grad(), hooks(model, {f"blocks.{patch.layer}.hook_resid_pre": hook}):
        return model(corrupted).logits


def test_a_nan_metric_names_the_first_patch_that_gave_it():
    model, (clean, corrupted) = _gpt(), _pair()
    poisoned = [_patched_logits(model, clean, corrupted, Patch(1, p)) for p in (3, 5)]

    def metric(logits):  # NaN for exactly the patches (1, 3) and (1, 5)
        if any(torch.allclose(logits, bad, atol=1e-5, rtol=0) for bad in poisoned):
            return torch.tensor(float("nan"))
        return _metric(logits)

    for batch_size in (1, 4, 64):
        with pytest.raises(ValueError) as raised:
            patch_activations(model, clean, corrupted, metric, kind="resid_pre", batch_size=batch_size)
        message = _one_line(raised)
        assert "NaN" in message and "Patch(layer=1, position=3, head=None)" in message, message
    _, cache = run_with_cache(model, clean)
    with pytest.raises(ValueError) as raised:
        patch_one(model, corrupted, cache, "resid_pre", Patch(1, 5), metric)
    assert "NaN" in _one_line(raised) and "Patch(layer=1, position=5, head=None)" in str(raised.value)


def test_a_metric_that_is_nan_on_the_clean_input_says_so():
    with pytest.raises(ValueError) as raised:
        patch_activations(_gpt(), *_pair(), lambda logits: logits[:, -1, 5].mean() * float("nan"))
    assert "NaN" in _one_line(raised) and "clean input" in str(raised.value)


# ----- item 7: layers must name each layer once, and at least one ----------------------------------

@pytest.mark.parametrize("layers, error, words", [
    ([1, 1], ValueError, ["layers", "twice"]),
    ([0, -2], ValueError, ["layers", "twice"]),  # -2 is layer 0 of a 2-layer model
    ([], ValueError, ["layers", "at least one"]),
    (1, TypeError, ["layers", "[1]"]),
], ids=["repeated", "repeated from the end", "empty", "an int"])
def test_layers_that_repeat_a_layer_or_name_none_are_refused(layers, error, words):
    with pytest.raises(error) as raised:
        patch_activations(_gpt(), *_pair(), _metric, layers=layers)
    message = _one_line(raised)
    assert all(word in message for word in words), message


# ----- item 8: which position logit_difference scores on BERT ------------------------------------------

MASK = 4  # the test's [MASK] id (below the ids _pair draws from)


def _masked_pair(b: int = 1, positions=(3,)):
    clean, corrupted = _pair(b)
    for row, position in enumerate(positions if len(positions) == b else positions * b):
        clean[row, position] = corrupted[row, position] = MASK
    return clean, corrupted


def _plain_difference(model, ids, positions, target=5, foil=9) -> float:
    with torch.no_grad():
        logits = model(ids).logits
    return float(sum(logits[row, p, target] - logits[row, p, foil] for row, p in enumerate(positions)) / len(positions))


def test_on_bert_logit_difference_scores_the_one_mask():
    model, (clean, corrupted) = _bert(), _masked_pair()
    result = patch_activations(model, clean, corrupted, logit_difference(5, 9, mask_token_id=MASK), layers=[0])
    assert abs(result.clean_value - _plain_difference(model, clean, [3])) < 1e-5
    assert abs(result.corrupted_value - _plain_difference(model, corrupted, [3])) < 1e-5
    # Each input's own [MASK], when they sit at different positions.
    clean, corrupted = _masked_pair(2, positions=(2, 4))
    result = patch_activations(model, clean, corrupted, logit_difference(5, 9, mask_token_id=MASK), layers=[0])
    assert abs(result.clean_value - _plain_difference(model, clean, [2, 4])) < 1e-5


@pytest.mark.parametrize("mask_token_id, positions, words", [
    (None, (3,), ["position", "mask_token_id", "[SEP]"]),
    (MASK, (2, 4), ["exactly one", "position", "2"]),  # two [MASK]s in one input
    (MASK, (), ["exactly one", "position", "0"]),  # none
], ids=["no mask id", "two masks", "no mask"])
def test_on_bert_logit_difference_without_a_position_needs_one_mask(mask_token_id, positions, words):
    model, (clean, corrupted) = _bert(), _pair()
    for position in positions:
        clean[0, position] = corrupted[0, position] = MASK
    metric = logit_difference(5, 9, **({} if mask_token_id is None else {"mask_token_id": mask_token_id}))
    _, cache = run_with_cache(model, clean)
    for call in (lambda: patch_activations(model, clean, corrupted, metric),
                 lambda: patch_one(model, corrupted, cache, "resid_pre", Patch(0, 1), metric)):
        with pytest.raises(ValueError) as raised:
            call()
        message = _one_line(raised)
        assert all(word in message for word in words), message


def test_logit_difference_without_a_position_scores_gpts_last_and_asks_when_called_alone():
    model, (clean, corrupted) = _gpt(), _pair()
    result = patch_activations(model, clean, corrupted, logit_difference(5, 9), layers=[0])
    assert abs(result.clean_value - _plain_difference(model, clean, [T - 1])) < 1e-5
    explicit = patch_activations(_bert(), *_masked_pair(), logit_difference(5, 9, position=1), layers=[0])
    assert abs(explicit.clean_value - _plain_difference(_bert(), _masked_pair()[0], [1])) < 1e-5
    with pytest.raises(ValueError) as raised:  # the logits alone cannot say whether a GPT or a BERT made them
        logit_difference(5, 9)(LOGITS)
    assert "position" in _one_line(raised)


def test_model_parts_tells_bert_from_gpt_by_causality_not_by_a_final_norm_attribute():
    # BertModel holds final_norm = None (set when its blocks are pre-LN), so the attribute says nothing.
    assert model_parts(_bert()).family == "bert" and model_parts(_gpt()).family == "gpt"


# ----- item 10: every module comes back in its own train/eval mode --------------------------------

def _modes(model) -> dict[str, bool]:
    return {name: module.training for name, module in model.named_modules()}


@pytest.mark.parametrize("tool", ["patch_activations", "patch_one", "logit_lens", "attribution", "patterns"])
def test_each_module_keeps_its_own_training_flag(tool):
    model, (clean, corrupted) = _gpt(), _pair()
    model.train()
    model.gpt.blocks[0].eval()  # e.g. a frozen first block while the rest trains
    model.gpt.blocks[1].feedforward.train()
    _, cache = run_with_cache(model, clean)
    before = _modes(model)
    assert not all(before.values()) and any(before.values())
    {"patch_activations": lambda: patch_activations(model, clean, corrupted, _metric, layers=[0]),
     "patch_one": lambda: patch_one(model, corrupted, cache, "resid_pre", Patch(0, 1), _metric),
     "logit_lens": lambda: logit_lens(model, clean),
     "attribution": lambda: direct_logit_attribution(model, clean, 5, 9),
     "patterns": lambda: attention_patterns(model, clean)}[tool]()
    assert _modes(model) == before


def test_the_tools_run_with_every_module_in_eval_mode():
    model, (clean, corrupted) = _gpt(), _pair()
    model.train()
    model.gpt.blocks[1].eval()
    seen = []
    hook = model.gpt.blocks[0].register_forward_hook(lambda module, inputs, output: seen.append(
        [name for name, m in model.named_modules() if m.training]))
    patch_activations(model, clean, corrupted, _metric, layers=[0])
    hook.remove()
    assert seen and all(training == [] for training in seen), seen[0]


def test_a_model_already_in_eval_mode_is_not_switched_on_every_patch(monkeypatch):
    # Switching every module twice per call cost about a third of patch_one's time on the shipped models.
    model, (clean, corrupted) = _gpt(), _pair()
    _, cache = run_with_cache(model, clean)
    calls = []
    original = torch.nn.Module.train
    monkeypatch.setattr(torch.nn.Module, "train", lambda self, mode=True: calls.append(mode) or original(self, mode))
    for position in range(T):
        patch_one(model, corrupted, cache, "resid_pre", Patch(0, position), _metric)
    assert calls == []


def test_patch_one_names_an_activation_the_blocks_do_not_have():
    model, (clean, corrupted) = _gpt(), _pair()
    _, cache = run_with_cache(model, clean)
    del model.gpt.blocks[1].attention.hook_q  # a custom block without this hook point
    with pytest.raises(KeyError) as raised:
        patch_one(model, corrupted, cache, "q", Patch(1, 2, head=0), _metric)
    assert "blocks.1.attention.hook_q" in _one_line(raised)
