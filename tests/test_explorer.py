"""The attention explorer's Python side: the embedded data equals the model's attention weights,
masks are the ones the model applied, the page is self-contained, views get unique roots."""

from __future__ import annotations

import json
import re
from functools import partial

import pytest
import torch

from minitransformers.components.sliding_window import SlidingWindowAttention
from minitransformers.config import BertConfig, GPTConfig
from minitransformers.explorer import AttentionExplorer, explore
from minitransformers.masks import causal_mask, sliding_window_mask
from minitransformers.models import BertForPreTraining, BertModel, GPTLMHeadModel, GPTModel
from minitransformers.tokenizers import WordPieceTokenizer

TOLERANCE = 0.5e-4 + 1e-6  # rounding to 4 decimals, plus float32 noise

WORDS = ["the", "cat", "sat", "on", "mat", "dog", "ran", "a", "far", "away", "."]


def make_tokenizer() -> WordPieceTokenizer:
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return WordPieceTokenizer({token: i for i, token in enumerate(specials + WORDS)})


def make_gpt(**overrides) -> GPTLMHeadModel:
    # A larger init spread makes heads attend differently, so a wrong head cannot pass by chance.
    config = GPTConfig.preset("tiny", n_layers=3, n_heads=2, initializer_range=0.3, **overrides)
    return GPTLMHeadModel(config).eval()


def make_bert() -> BertForPreTraining:
    config = BertConfig.preset("tiny", vocab_size=32, n_layers=2, n_heads=2, initializer_range=0.3)
    return BertForPreTraining(config).eval()


def embedded_data(html: str) -> dict:
    """Parse the JSON the page carries, as the browser would."""
    match = re.search(r'<script type="application/json" class="mtx-data">(.*?)</script>', html, re.DOTALL)
    assert match, "no embedded data block in the page"
    return json.loads(match.group(1))


def assert_close_to_model(data: dict, attentions: tuple[torch.Tensor, ...]) -> None:
    assert data["n_layers"] == len(attentions)
    for layer, weights in enumerate(attentions):
        shown = torch.tensor(data["attentions"][layer], dtype=torch.float64)
        assert shown.shape == weights[0].shape  # (h t s)
        assert (shown - weights[0].double()).abs().max() <= TOLERANCE


@pytest.mark.parametrize("attn_impl", ["manual", "sdpa"])
def test_gpt_page_data_equals_output_attentions(attn_impl):
    model = make_gpt(attn_impl=attn_impl)
    ids = torch.randint(0, 1000, (1, 20))
    html = explore(model, ids).to_html()
    data = embedded_data(html)
    with torch.no_grad():
        expected = model(ids, output_attentions=True).attentions
    assert_close_to_model(data, expected)
    assert data["tokens"] == [str(i) for i in ids[0].tolist()]  # no tokenizer: ids as labels
    assert data["segments"] is None and data["mask_kind"] == "causal"


def test_bert_sentence_pair_segments_tokens_and_weights():
    model, tokenizer = make_bert(), make_tokenizer()
    view = explore(model, "the cat sat on the mat", tokenizer=tokenizer, text_pair="a dog ran far away")
    data = embedded_data(view.to_html())
    encoded = tokenizer("the cat sat on the mat", text_pair="a dog ran far away", return_tensors="pt")
    with torch.no_grad():
        expected = model(
            encoded["input_ids"], token_type_ids=encoded["token_type_ids"], output_attentions=True
        ).attentions
    assert_close_to_model(data, expected)
    assert data["tokens"][:3] == ["[CLS]", "the", "cat"] and data["tokens"][-1] == "[SEP]"
    assert data["segments"] == encoded["token_type_ids"][0].tolist()
    assert set(data["segments"]) == {0, 1}  # both segments present, so the page marks A and B
    assert data["mask_kind"] == "bidirectional"
    t = len(data["tokens"])
    assert data["masks"] == [["1" * t] * t] and data["mask_of_layer"] == [0, 0]


def test_causal_mask_recorded_and_weights_zero_where_hidden():
    data = explore(make_gpt(), list(range(12))).data
    expected_rows = ["".join("1" if a else "0" for a in row) for row in causal_mask(12).tolist()]
    assert data["masks"] == [expected_rows] and data["mask_of_layer"] == [0, 0, 0]
    weights = torch.tensor(data["attentions"], dtype=torch.float64)  # (layers h t s)
    assert torch.all(weights[..., ~causal_mask(12)] == 0)
    assert torch.allclose(weights.sum(-1), torch.ones(()).double(), atol=12 * TOLERANCE)


def test_mask_added_inside_attention_is_shown():
    # A sliding window is added inside the attention module, not passed in: the page still shows it.
    model = make_gpt(attention=partial(SlidingWindowAttention, window=3))
    data = explore(model, list(range(10))).data
    expected = sliding_window_mask(10, 3)
    assert data["masks"] == [["".join("1" if a else "0" for a in row) for row in expected.tolist()]]


def test_head_class_and_bare_body_give_the_same_data():
    gpt = make_gpt()
    assert explore(gpt, list(range(8))).data["attentions"] == explore(gpt.gpt, list(range(8))).data["attentions"]
    bert = make_bert()
    assert isinstance(bert.bert, BertModel) and isinstance(gpt.gpt, GPTModel)
    assert explore(bert, [2, 5, 6, 3]).data["attentions"] == explore(bert.bert, [2, 5, 6, 3]).data["attentions"]


def test_training_mode_restored_and_dropout_off():
    model = make_gpt(attention_dropout=0.5).train()
    first = explore(model, list(range(8))).data["attentions"]
    assert model.training, "explore must put the model back in training mode"
    assert explore(model, list(range(8))).data["attentions"] == first  # no dropout noise


def test_page_is_self_contained():
    html = explore(make_gpt(), list(range(8))).to_html()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"""\b(src|href)\s*=""", html, re.IGNORECASE), "the page must load nothing"
    assert not re.search(r"url\(", html), "no external style resources"
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "startExplorer" in html and "mtx-test-output" in html  # the script is inline


def test_views_have_unique_roots_bound_to_their_script():
    view = explore(make_gpt(), list(range(6)))
    first, second = view._repr_html_(), view._repr_html_()
    ids = [re.search(r'<div class="mtx-explorer" id="([\w-]+)"', h).group(1) for h in (first, second)]
    assert ids[0] != ids[1]
    for html, root_id in zip((first, second), ids):
        assert f'document.getElementById("{root_id}")' in html
        assert "<html" not in html  # a fragment for a notebook cell, not a document


def test_tokens_cannot_break_out_of_the_script_tag():
    view = explore(make_gpt(), list(range(4)))
    view.data["tokens"][0] = "</script><b>x</b>"
    html = view.to_html()
    assert "</script><b>" not in html
    assert embedded_data(html)["tokens"][0] == "</script><b>x</b>"


def test_long_input_is_truncated_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="keeps the first 16"):
        view = explore(make_gpt(), list(range(40)), max_tokens=16, window=8)
    assert len(view.data["tokens"]) == 16 and view.data["truncated_from"] == 40
    assert view.data["window"] == 8
    path = view.save_html(tmp_path / "sub" / "page.html")
    assert embedded_data(path.read_text(encoding="utf-8"))["tokens"] == view.data["tokens"]


def test_bad_inputs_say_what_to_do():
    gpt = make_gpt()
    with pytest.raises(TypeError, match="tokenizer"):
        explore(gpt, "some text")
    with pytest.raises(ValueError, match="one sequence"):
        explore(gpt, torch.zeros(2, 5, dtype=torch.long))
    with pytest.raises(TypeError, match="mini-BERT or mini-GPT"):
        explore(torch.nn.Linear(2, 2), [1, 2])
    with pytest.raises(ValueError, match="window"):
        AttentionExplorer(explore(gpt, [1, 2]).data, window=0)


def test_a_subset_of_layers_keeps_the_model_layer_numbers():
    model, ids = make_gpt(), torch.arange(9).unsqueeze(0)
    data = explore(model, ids, layers=[2, 0]).data
    with torch.no_grad():
        expected = model(ids, output_attentions=True).attentions
    assert data["layers"] == [2, 0] and data["n_layers"] == 2 and data["model_layers"] == 3
    assert_close_to_model(data, (expected[2], expected[0]))
    with pytest.raises(ValueError, match=r"0\.\.2"):
        explore(model, ids, layers=[3])
