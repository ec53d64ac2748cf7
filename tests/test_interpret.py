"""interpret/: logit lens, activation patching, direct logit attribution and head detectors.

Small random models with large, random weights (norms included), so that
a skipped layer, a wrong axis or a missing scale changes the numbers by far
more than the tolerances. The expected values come from other paths: the
models' ``hidden_states``, transformers' own modules, the existing
``patch_from`` hook, or patterns built by hand.
"""

from __future__ import annotations

import pytest
import torch
import transformers

from minitransformers import (
    BertConfig, BertForMaskedLM, BertForPreTraining, BertModel, GPTConfig, GPTLMHeadModel, GPTModel, hooks,
    patch_from, run_with_cache,
)
from minitransformers.interpret import (
    Patch, attention_patterns, direct_logit_attribution, induction_scores, logit_difference, logit_lens,
    next_token_scores, patch_activations, patch_one, previous_token_scores, repeated_random_tokens, sink_scores,
)

V, T = 53, 7


def _randomised(model):
    torch.manual_seed(1)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.3)
            if parameter.dim() == 1:
                parameter.add_(1.0)  # norms away from the identity, biases away from zero
    return model.eval()


def _gpt(cls=GPTLMHeadModel):
    config = GPTConfig(vocab_size=V, hidden_size=24, n_layers=3, n_heads=3, intermediate_size=40, max_positions=16)
    return _randomised(cls(config))


def _bert(cls=BertForMaskedLM):
    config = BertConfig(vocab_size=V, hidden_size=24, n_layers=3, n_heads=3, intermediate_size=40, max_positions=16)
    return _randomised(cls(config))


def _pair(b=1):
    """Clean and corrupted ids that differ at position 2 only."""
    clean = torch.randint(3, V, (b, T), generator=torch.Generator().manual_seed(2))
    corrupted = clean.clone()
    corrupted[:, 2] = (clean[:, 2] + 5) % V
    return clean, corrupted


def _hf_gpt2(scale: float | None = None):
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=V, n_embd=24, n_layer=2, n_head=3, n_positions=16,
                                     bos_token_id=1, eos_token_id=2)
    model = transformers.GPT2LMHeadModel(config).eval()
    if scale is not None:
        with torch.no_grad():
            for parameter in model.parameters():
                parameter.normal_(0.0, scale)
    return model


MODELS = {"gpt": _gpt, "bert-mlm": _bert, "bert-pretraining": lambda: _bert(BertForPreTraining)}


# --- logit lens ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_logit_lens_reads_each_layer_through_the_models_own_output_path(make):
    model, (ids, _) = make(), _pair(2)
    lens = logit_lens(model, ids)
    out = model(ids, output_hidden_states=True)
    assert lens.logits.shape == (4, 2, T, V)
    torch.testing.assert_close(lens.logits[-1], out.logits, atol=1e-5, rtol=0)
    # The un-normalised stream after block 1 is hidden_states[2]; read it by hand through the head.
    if isinstance(model, GPTLMHeadModel):
        by_hand = model.lm_head(model.gpt.final_norm(out.hidden_states[2]))
    else:  # BERT: the MLM transform (dense, GELU, norm) and the decoder
        head = model.mlm_head
        by_hand = head.decoder(head.norm(head.activation(head.dense(out.hidden_states[2]))))
    torch.testing.assert_close(lens.logits[2], by_hand, atol=1e-5, rtol=0)


def test_logit_lens_of_checkpoints_from_transformers_match_transformers(tmp_path):
    gpt2 = _hf_gpt2()
    bert = transformers.BertForMaskedLM(transformers.BertConfig(
        vocab_size=V, hidden_size=24, num_hidden_layers=2, num_attention_heads=3, intermediate_size=40,
        max_position_embeddings=16)).eval()
    gpt2.save_pretrained(tmp_path / "gpt2")
    bert.save_pretrained(tmp_path / "bert")
    ids = _pair()[0]
    with torch.no_grad():
        hf = gpt2(ids, output_hidden_states=True).hidden_states[1]
        expected_gpt = gpt2.lm_head(gpt2.transformer.ln_f(hf))
        expected_bert = bert.cls(bert(ids, output_hidden_states=True).hidden_states[1])
    ours_gpt = logit_lens(GPTLMHeadModel.from_pretrained(tmp_path / "gpt2"), ids).logits[1]
    ours_bert = logit_lens(BertForMaskedLM.from_pretrained(tmp_path / "bert"), ids).logits[1]
    torch.testing.assert_close(ours_gpt, expected_gpt, atol=1e-4, rtol=0)
    torch.testing.assert_close(ours_bert, expected_bert, atol=1e-4, rtol=0)


def test_logit_lens_rank_probability_and_positions():
    model, ids = _bert(), _pair()[0]
    lens = logit_lens(model, ids, positions=[-1, 3])
    assert lens.positions == [T - 1, 3] and lens.logits.shape == (4, 1, 2, V)
    probabilities = lens.logits.softmax(dim=-1)
    best = probabilities.argmax(dim=-1)
    assert (lens.target_rank(best[-1]) [-1] == 0).all()
    order = lens.logits[0, 0, 0].argsort(descending=True)
    assert int(lens.target_rank(int(order[4]))[0, 0, 0]) == 4
    torch.testing.assert_close(lens.target_probability(7), probabilities[..., 7])
    top_p, top_ids = lens.top_k(3)
    assert (top_ids[..., 0] == best).all() and (top_p[..., 0] >= top_p[..., 1]).all()
    assert "target rank" in lens.table(_Decoder(), position=3, target=7)


class _Decoder:
    def decode(self, ids):
        return f"w{ids[0]}"


# --- activation patching -------------------------------------------------------------------------

def _metric(logits):
    return logits[:, -1, 5].mean() - logits[:, -1, 9].mean()


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
@pytest.mark.parametrize("kind, per_position", [("resid_pre", True), ("feedforward_out", True),
                                                ("attention_out", True), ("head_outputs", True),
                                                ("head_outputs", False), ("v", True)])
def test_batched_patching_equals_one_run_per_patch(make, kind, per_position):
    model, (clean, corrupted) = make(), _pair(2)
    result = patch_activations(model, clean, corrupted, _metric, kind=kind, per_position=per_position, batch_size=5)
    _, clean_cache = run_with_cache(model, clean)
    heads = kind in ("head_outputs", "v")
    expected = torch.zeros_like(result.values)
    for index in torch.cartesian_prod(*(torch.arange(n) for n in result.values.shape)).tolist():
        named = dict(zip(result.dims, index))
        patch = Patch(named["layer"], named.get("position"), named.get("head") if heads else None)
        expected[tuple(index)] = patch_one(model, corrupted, clean_cache, kind, patch, _metric)
    torch.testing.assert_close(result.values, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_patching_the_stream_agrees_with_patch_from_and_restores_the_changed_token(make):
    model, (clean, corrupted) = make(), _pair()
    result = patch_activations(model, clean, corrupted, _metric, kind="resid_pre")
    _, cache = run_with_cache(model, clean)
    for layer in range(3):
        for position in range(T):
            with torch.no_grad(), hooks(model, {f"blocks.{layer}.hook_resid_pre": patch_from(cache, [position])}):
                expected = float(_metric(model(corrupted).logits))
            assert abs(float(result.values[layer, position]) - expected) < 1e-5
    # The inputs differ at position 2 only: patching it before block 0 gives the clean run, others change nothing.
    assert abs(float(result.values[0, 2]) - result.clean_value) < 1e-5
    others = result.values[0, [0, 1, 3, 4, 5, 6]]
    assert torch.allclose(others, torch.tensor(result.corrupted_value), atol=1e-5)
    assert abs(float(result.normalized()[0, 2]) - 1.0) < 1e-4


def test_gpt_patching_after_the_scored_position_changes_nothing():
    model, (clean, corrupted) = _gpt(), _pair()
    result = patch_activations(model, clean, corrupted, logit_difference(5, 9, position=3), kind="head_outputs")
    assert result.dims == ("layer", "position", "head") and result.values.shape == (3, T, 3)
    assert torch.allclose(result.values[:, 4:], torch.tensor(result.corrupted_value), atol=1e-6)
    assert not torch.allclose(result.values[:, :4], torch.tensor(result.corrupted_value), atol=1e-3)


def test_patching_restores_the_training_flag_and_accepts_forward_arguments():
    model, (clean, corrupted) = _bert(), _pair()
    model.train()
    mask = torch.ones_like(clean)
    result = patch_activations(model, clean, corrupted, _metric, layers=[1], attention_mask=mask,
                               token_type_ids=torch.zeros_like(clean))
    assert model.training and result.values.shape == (1, T) and result.layers == [1]


# --- direct logit attribution --------------------------------------------------------------------

@pytest.mark.parametrize("foil", [9, None])
def test_direct_logit_attribution_sums_to_the_logit_difference(foil):
    model, ids = _gpt(), _pair(2)[0]
    attribution = direct_logit_attribution(model, ids, target=5, foil=foil, position=4)
    logits = model(ids).logits[:, 4]
    expected = logits[:, 5] - (logits[:, 9] if foil is not None else 0)
    assert attribution.heads.shape == (3, 3, 2) and attribution.mlps.shape == (3, 2)
    torch.testing.assert_close(attribution.total(), expected, atol=1e-4, rtol=0)
    torch.testing.assert_close(attribution.logit_difference, expected, atol=1e-5, rtol=0)
    assert len(attribution.largest(4)) == 4


def test_direct_logit_attribution_of_a_transformers_gpt2(tmp_path):
    gpt2 = _hf_gpt2(scale=0.3)
    gpt2.save_pretrained(tmp_path)
    ids = _pair()[0]
    with torch.no_grad():
        logits = gpt2(ids).logits[0, -1]
    attribution = direct_logit_attribution(GPTLMHeadModel.from_pretrained(tmp_path), ids, target=5, foil=9)
    assert abs(float(attribution.total()[0]) - float(logits[5] - logits[9])) < 1e-4


# --- head detectors ------------------------------------------------------------------------------

def _one_hot_patterns(keys: list[list[int]]) -> torch.Tensor:
    """(1 1 h t t) patterns: head i's query q puts all its weight on keys[i][q]."""
    t = len(keys[0])
    patterns = torch.zeros(1, 1, len(keys), t, t)
    for head, row in enumerate(keys):
        patterns[0, 0, head, torch.arange(t), torch.tensor(row)] = 1.0
    return patterns


def test_detectors_score_hand_made_heads():
    t = 6
    previous, following, first = [max(q - 1, 0) for q in range(t)], [min(q + 1, t - 1) for q in range(t)], [0] * t
    patterns = _one_hot_patterns([previous, following, first])
    uniform = torch.full((1, 1, 1, t, t), 1 / t)
    patterns = torch.cat([patterns, uniform], dim=2)
    ids = torch.tensor([[4, 5, 6, 7, 8, 9]])
    torch.testing.assert_close(previous_token_scores(patterns)[0], torch.tensor([1.0, 0.0, 0.2, 1 / t]))
    torch.testing.assert_close(next_token_scores(patterns)[0], torch.tensor([0.0, 1.0, 0.0, 1 / t]))
    torch.testing.assert_close(sink_scores(patterns, ids)[0], torch.tensor([2 / t, 0.0, 1.0, 1 / t]))
    torch.testing.assert_close(sink_scores(patterns, ids, token_id=9)[0], torch.tensor([0.0, 2 / t, 0.0, 1 / t]))


def test_induction_score_of_a_hand_made_induction_head():
    ids = torch.tensor([[1, 10, 11, 12, 10, 11, 12, 2]])  # a frame, then 10 11 12 twice
    induction = [0, 0, 1, 2, 2, 3, 4, 7]  # queries 4-6 look at the token after their earlier copy
    patterns = _one_hot_patterns([induction, list(range(8))])
    torch.testing.assert_close(induction_scores(patterns, ids)[0], torch.tensor([1.0, 0.0]))


def test_detectors_on_models_skip_padding_and_queries_without_a_choice():
    model, ids = _gpt(), _pair(2)[0]
    patterns = attention_patterns(model, ids)
    expected = torch.stack(model(ids, output_attentions=True).attentions)
    torch.testing.assert_close(patterns, expected)
    # Query 1 of a causal model sees keys 0 and 1: previous-token score = mean of w[q, q-1] over q >= 1.
    manual = expected[..., torch.arange(1, T), torch.arange(T - 1)].mean(dim=(1, 3))
    torch.testing.assert_close(previous_token_scores(patterns), manual)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    bert_patterns = attention_patterns(_bert(BertModel), ids, attention_mask=mask)
    kept = next_token_scores(bert_patterns, attention_mask=mask)
    # Input 0 has queries 0..5 with a next token; input 1 only 0..3 (its token 5 onwards is padding).
    rows = [bert_patterns[:, 0, :, q, q + 1] for q in range(T - 1)]
    rows += [bert_patterns[:, 1, :, q, q + 1] for q in range(4)]
    torch.testing.assert_close(kept, torch.stack(rows).mean(dim=0))


def test_repeated_random_tokens():
    ids = repeated_random_tokens(50, 12, batch=3, seed=4, low=5)
    assert ids.shape == (3, 24) and (ids[:, :12] == ids[:, 12:]).all()
    assert int(ids.min()) >= 5 and int(ids.max()) < 50
    assert all(len(set(row[:12].tolist())) == 12 for row in ids)
    with pytest.raises(ValueError, match="distinct tokens"):
        repeated_random_tokens(10, 12)


# --- bad input: one clear line -------------------------------------------------------------------

def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_bad_input_gets_one_clear_line():
    gpt, (clean, corrupted) = _gpt(), _pair()
    with pytest.raises(ValueError) as error:
        patch_activations(gpt, clean, corrupted[:, :-1], _metric)
    assert "same shape" in _one_line(error)
    with pytest.raises(ValueError) as error:  # one number per input of a batch of two
        patch_activations(gpt, *_pair(2), lambda logits: logits[:, -1, 5])
    assert "must return one number" in _one_line(error) and "(2,)" in str(error.value)
    with pytest.raises(IndexError) as error:
        patch_activations(gpt, clean, corrupted, _metric, layers=[3])
    assert "numbered 0 to 2" in _one_line(error)
    _, cache = run_with_cache(gpt, clean)
    with pytest.raises(IndexError) as error:
        patch_one(gpt, corrupted, cache, "head_outputs", Patch(0, 1, head=3), _metric)
    assert "head 3 does not exist" in _one_line(error)
    with pytest.raises(ValueError) as error:
        patch_activations(gpt, clean, corrupted, _metric, kind="resid_pre", per_position=False)
    assert "has no heads" in _one_line(error)
    with pytest.raises(IndexError) as error:
        logit_lens(gpt, clean, positions=[T])
    assert "do not exist" in _one_line(error)


@pytest.mark.parametrize("make, call, words", [
    (lambda: _gpt(GPTModel), lambda m, ids: logit_lens(m, ids), "GPTLMHeadModel.from_pretrained"),
    (lambda: _bert(BertModel), lambda m, ids: logit_lens(m, ids), "BertForMaskedLM.from_pretrained"),
    (lambda: _bert(BertModel), lambda m, ids: patch_activations(m, ids, ids, _metric), "no output head"),
    (lambda: _gpt(GPTModel), lambda m, ids: direct_logit_attribution(m, ids, 1), "has none"),
    (_bert, lambda m, ids: direct_logit_attribution(m, ids, 1), "post-LN"),
])
def test_models_without_the_needed_head_are_told_what_to_load(make, call, words):
    with pytest.raises(TypeError) as error:
        call(make(), _pair()[0])
    assert words in _one_line(error)
