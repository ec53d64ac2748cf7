"""Generation with mini-GPT: the KV cache changes nothing but the work, seeds repeat, batches match."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.generation import generate, generate_stream, positions_from_mask, stream_text
from minitransformers.outputs import ModelOutput


@pytest.fixture(scope="module")
def model() -> GPTLMHeadModel:
    torch.manual_seed(0)
    # A larger init than GPT-2's gives peaked next-token distributions, so greedy picks are not
    # decided by float noise and the generated sequences are varied.
    config = GPTConfig.preset("tiny", initializer_range=0.2, max_positions=64)
    return GPTLMHeadModel(config).eval()


@pytest.fixture(scope="module")
def prompt() -> torch.Tensor:
    return torch.randint(0, 1000, (2, 6), generator=torch.Generator().manual_seed(1))


def _record_step_logits(model):
    """Collect the last-position logits of every forward pass (a hook on the LM head)."""
    seen: list[torch.Tensor] = []
    handle = model.lm_head.register_forward_hook(lambda m, i, out: seen.append(out[:, -1].clone()))
    return seen, handle


def test_greedy_by_default_matches_a_plain_argmax_loop(model, prompt):
    expected = prompt
    for _ in range(12):  # the textbook loop: full forward pass, argmax, append
        next_token = model(expected).logits[:, -1].argmax(-1, keepdim=True)
        expected = torch.cat([expected, next_token], dim=1)
    assert torch.equal(model.generate(prompt, max_new_tokens=12), expected)


def test_cache_gives_identical_ids_and_step_logits(model, prompt):
    results = {}
    for use_cache in (True, False):
        seen, handle = _record_step_logits(model)
        ids = generate(model, prompt, max_new_tokens=15, use_cache=use_cache)
        handle.remove()
        results[use_cache] = (ids, torch.stack(seen))
    assert torch.equal(results[True][0], results[False][0])
    torch.testing.assert_close(results[True][1], results[False][1], atol=1e-5, rtol=0)


def test_work_per_step_is_flat_with_the_cache_and_grows_without(model):
    prompt, steps = torch.randint(0, 1000, (1, 8)), 20
    attention = model.gpt.blocks[0].attention
    for use_cache in (True, False):
        query_lengths: list[int] = []
        key_lengths: list[int] = []
        handles = [
            attention.hook_q.register_forward_hook(
                lambda m, i, q, seen=query_lengths: seen.append(q.shape[2])),
            attention.hook_k.register_forward_hook(
                lambda m, i, k, seen=key_lengths: seen.append(k.shape[2])),
        ]
        generate(model, prompt, max_new_tokens=steps, use_cache=use_cache, eos_token_id=[])
        for handle in handles:
            handle.remove()
        contexts = list(range(8, 8 + steps))  # sequence length seen at each step
        assert key_lengths == contexts
        # Score matrix (t x s) per step: the attention work of that step.
        work = [t * s for t, s in zip(query_lengths, key_lengths)]
        if use_cache:
            assert query_lengths == [8] + [1] * (steps - 1)
            assert work[1:] == contexts[1:]  # O(context): one new query against s keys
        else:
            assert query_lengths == contexts
            assert work == [s * s for s in contexts]  # O(context^2): everything recomputed


def test_seed_makes_sampling_repeatable(model, prompt):
    options = {"max_new_tokens": 15, "temperature": 1.5, "top_k": 50, "top_p": 0.95}
    first = generate(model, prompt, seed=123, **options)
    assert torch.equal(first, generate(model, prompt, seed=123, **options))
    assert torch.equal(first, generate(model, prompt, generator=torch.Generator().manual_seed(123), **options))
    assert not torch.equal(first, generate(model, prompt, seed=124, **options))


def test_left_padded_batch_gives_the_same_tokens_as_each_prompt_alone(model):
    lengths, pad_id, n_new = [3, 9, 6], 7, 10
    prompts = [torch.randint(0, 1000, (n,), generator=torch.Generator().manual_seed(n)) for n in lengths]
    width = max(lengths)
    input_ids = torch.full((len(prompts), width), pad_id)
    attention_mask = torch.zeros(len(prompts), width, dtype=torch.long)
    for row, ids in enumerate(prompts):
        input_ids[row, width - len(ids):] = ids
        attention_mask[row, width - len(ids):] = 1
    seen, handle = _record_step_logits(model)
    batched = generate(model, input_ids, max_new_tokens=n_new, attention_mask=attention_mask)
    handle.remove()
    batched_logits = torch.stack(seen)  # (steps, b, v)
    for row, ids in enumerate(prompts):
        seen, handle = _record_step_logits(model)
        alone = generate(model, ids[None], max_new_tokens=n_new)
        handle.remove()
        assert torch.equal(batched[row, width:], alone[0, len(ids):])
        torch.testing.assert_close(batched_logits[:, row], torch.stack(seen)[:, 0], atol=1e-5, rtol=0)


def test_positions_from_mask_count_real_tokens():
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    assert positions_from_mask(mask).tolist() == [[0, 0, 0, 1, 2], [0, 1, 2, 3, 4]]


def test_eos_stops_a_row_and_pads_it_while_the_others_go_on(model, prompt):
    free = generate(model, prompt, max_new_tokens=8, eos_token_id=[])
    eos = int(free[0, 6 + 2])  # the third token row 0 produces
    out = generate(model, prompt, max_new_tokens=8, eos_token_id=eos, pad_token_id=0)
    row0_new = out[0, 6:].tolist()
    stop_at = row0_new.index(eos)
    assert all(token == 0 for token in row0_new[stop_at + 1:])
    if eos not in free[1, 6:].tolist():
        assert torch.equal(out[1], free[1])


def test_generation_stops_when_every_row_is_done(model, prompt):
    alone = prompt[:1]
    free = generate(model, alone, max_new_tokens=8, eos_token_id=[])
    eos = int(free[0, 6 + 1])
    out = generate(model, alone, max_new_tokens=8, eos_token_id=eos)
    assert out.shape[1] <= 6 + 2 and int(out[0, -1]) == eos


def test_stop_strings_use_the_decode_function(model, prompt):
    def decode(ids):
        return " ".join(f"<{i}>" for i in ids)

    alone = prompt[:1]
    free = generate(model, alone, max_new_tokens=10, eos_token_id=[])
    target = f"<{int(free[0, 6 + 3])}>"
    out = generate(model, alone, max_new_tokens=10, eos_token_id=[], stop_strings=[target], decode=decode)
    assert target in decode(out[0, 6:].tolist())
    assert target not in decode(out[0, 6:-1].tolist())  # it stopped right at the stop string
    with pytest.raises(ValueError, match="decode"):
        generate(model, alone, max_new_tokens=3, stop_strings=["x"])


def test_max_length_is_checked_against_the_position_table(model):
    with pytest.raises(ValueError, match="max_positions=64"):
        generate(model, torch.zeros(1, 60, dtype=torch.long), max_new_tokens=5)
    assert generate(model, torch.zeros(1, 60, dtype=torch.long), max_new_tokens=4).shape == (1, 64)


def test_bad_arguments_say_what_to_change(model, prompt):
    with pytest.raises(ValueError, match="unsqueeze"):
        generate(model, prompt[0])
    with pytest.raises(ValueError, match="LEFT padding"):
        generate(model, prompt, attention_mask=torch.tensor([[1] * 5 + [0]] * 2))
    with pytest.raises(ValueError, match="seed"):
        generate(model, prompt, seed=1, generator=torch.Generator())


def test_stream_yields_the_same_tokens_one_step_at_a_time(model, prompt):
    steps = list(generate_stream(model, prompt, max_new_tokens=7))
    assert len(steps) == 7 and all(step.shape == (2,) for step in steps)
    assert torch.equal(torch.stack(steps, dim=1), generate(model, prompt, max_new_tokens=7)[:, 6:])


def test_generation_leaves_training_mode_as_it_was(model, prompt):
    model.train()
    try:
        first = generate(model, prompt, max_new_tokens=5)
        assert model.training
        assert torch.equal(first, generate(model, prompt, max_new_tokens=5))  # dropout was off
    finally:
        model.eval()


class _ScriptedModel(nn.Module):
    """A stand-in 'model' whose next token follows a fixed script (to test streaming text)."""

    def __init__(self, script: list[int], vocab_size: int = 256) -> None:
        super().__init__()
        self.script, self.vocab_size = script, vocab_size
        self.config = GPTConfig(vocab_size=vocab_size, max_positions=64)
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the model a device

    def forward(self, input_ids, attention_mask=None, position_ids=None, cache=None):
        step = attention_mask.shape[1] - self.prompt_length
        logits = torch.zeros(input_ids.shape[0], input_ids.shape[1], self.vocab_size)
        logits[:, -1, self.script[step]] = 10.0
        return ModelOutput(logits=logits)


class _ByteTokenizer:
    """Bytes as tokens: one UTF-8 character can take several tokens."""

    def encode(self, text: str) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")


def test_stream_text_never_shows_half_a_character():
    tokenizer, text = _ByteTokenizer(), "héllo ✓"
    model = _ScriptedModel(tokenizer.encode(text))
    model.prompt_length = 2
    pieces = list(stream_text(model, tokenizer, "ab", max_new_tokens=len(model.script)))
    assert "".join(pieces) == text
    assert "é" in pieces and "✓" in pieces and not any("\ufffd" in piece for piece in pieces)
