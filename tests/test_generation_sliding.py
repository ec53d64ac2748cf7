"""Generation past the context with ``sliding_context=True``: the last ``max_positions`` tokens
stay the context, and each step equals a full pass over that window."""

from __future__ import annotations

import pytest
import torch

from minitransformers import GPTConfig, GPTLMHeadModel
from minitransformers.cli_commands.common import load_model_and_tokenizer, shipped_checkpoint
from minitransformers.generation import generate


def _model(max_positions: int = 12, **overrides) -> GPTLMHeadModel:
    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", vocab_size=40, initializer_range=0.2, max_positions=max_positions,
                              hidden_dropout=0.0, attention_dropout=0.0, **overrides)
    return GPTLMHeadModel(config).eval()


@torch.no_grad()
def _window_reference(model, ids: torch.Tensor, n_new: int) -> torch.Tensor:
    """The plain definition, written out: crop to the last max_positions tokens, full pass, argmax."""
    limit = model.config.max_positions
    for _ in range(n_new):
        logits = model(ids[:, -limit:]).logits[:, -1]
        ids = torch.cat([ids, logits.argmax(-1, keepdim=True)], dim=1)
    return ids


@pytest.mark.parametrize("use_cache", [True, False])
def test_sliding_context_equals_cropping_to_the_last_window(use_cache):
    model = _model()
    ids = torch.randint(0, 40, (2, 5), generator=torch.Generator().manual_seed(2))
    out = generate(model, ids, max_new_tokens=30, sliding_context=True, use_cache=use_cache)
    assert out.shape == (2, 35)
    assert torch.equal(out, _window_reference(model, ids, 30))


def test_sliding_context_accepts_a_prompt_longer_than_the_context():
    model = _model()
    ids = torch.randint(0, 40, (1, 20), generator=torch.Generator().manual_seed(3))
    out = generate(model, ids, max_new_tokens=6, sliding_context=True)
    assert torch.equal(out, _window_reference(model, ids, 6))


def test_sliding_context_with_a_left_padded_batch_matches_each_prompt_alone():
    model = _model()
    ids = torch.randint(0, 40, (2, 6), generator=torch.Generator().manual_seed(4))
    mask = torch.tensor([[0, 0, 1, 1, 1, 1], [1] * 6])
    batched = generate(model, ids, max_new_tokens=20, attention_mask=mask, sliding_context=True)
    alone = generate(model, ids[:1, 2:], max_new_tokens=20, sliding_context=True)
    # Padding takes room in the batched window, so row 0 sees fewer real tokens once the
    # window slides; up to then it must agree with the prompt alone.
    assert torch.equal(batched[0, 6:6 + 12 - 6], alone[0, 4:4 + 12 - 6])
    assert torch.equal(batched[1:], generate(model, ids[1:], max_new_tokens=20, sliding_context=True))


def test_without_the_option_the_error_names_it():
    model = _model()
    with pytest.raises(ValueError, match=r"max_positions=12.*sliding_context=True"):
        generate(model, torch.zeros(1, 5, dtype=torch.long), max_new_tokens=8)


def _char_model_with_context(context: int):
    """The shipped char model cut to a ``context``-character position table (its first rows)."""
    model, tokenizer = load_model_and_tokenizer("char-gpt-shakespeare", torch.device("cpu"),
                                                gpt_class=GPTLMHeadModel)
    short = GPTLMHeadModel(model.config.replace(max_positions=context)).eval()
    state = {name: value[:context] if value.shape != short.state_dict()[name].shape else value
             for name, value in model.state_dict().items()}
    short.load_state_dict(state)
    return short, tokenizer


@pytest.mark.skipif(shipped_checkpoint("char-gpt-shakespeare") is None, reason="char model not shipped")
def test_char_model_writes_200_characters_after_a_27_character_prompt():
    model, tokenizer = _char_model_with_context(64)
    prompt = "ROMEO:\nBut soft, what light"
    ids = torch.tensor([tokenizer.encode(prompt)])
    assert ids.shape == (1, 27)
    with pytest.raises(ValueError, match="sliding_context=True"):
        generate(model, ids, max_new_tokens=200)
    out = generate(model, ids, max_new_tokens=200, sliding_context=True)
    assert out.shape == (1, 227)
    assert torch.equal(out, _window_reference(model, ids, 200))
    assert len(tokenizer.decode(out[0, 27:].tolist())) == 200


@pytest.mark.skipif(shipped_checkpoint("char-gpt-shakespeare") is None, reason="char model not shipped")
def test_cli_generate_slides_past_the_char_models_context(capsys):
    from minitransformers.cli import main

    prompt = "ROMEO:\nBut soft, what light"
    context = load_model_and_tokenizer("char-gpt-shakespeare", torch.device("cpu"),
                                       gpt_class=GPTLMHeadModel)[0].config.max_positions
    n_new = context - 27 + 40  # 40 characters past the context
    assert main(["generate", prompt, "--model", "char-gpt-shakespeare", "--max-new-tokens", str(n_new),
                 "--temperature", "0", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(prompt) and len(printed.rstrip("\n")) == 27 + n_new


def test_cli_generate_slides_for_a_bpe_model_only_when_asked(capsys):
    from minitransformers.cli import main

    if shipped_checkpoint("mini-gpt-shakespeare") is None:
        pytest.skip("mini-GPT not shipped")
    argv = ["generate", "ROMEO:", "--max-new-tokens", "260", "--temperature", "0", "--device", "cpu"]
    assert main(argv) == 2
    assert "pass --sliding-context" in capsys.readouterr().err  # the flag, in the command line's words
    assert main([*argv, "--sliding-context"]) == 0
