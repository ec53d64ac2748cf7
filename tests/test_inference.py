"""BERT and GPT inference helpers, checked live against transformers on the same weights."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import transformers
from tokenizers import Tokenizer as HFTokenizer

from minitransformers import (
    BertConfig,
    BertForMaskedLM,
    BertForPreTraining,
    BertModel,
    GPTConfig,
    GPTLMHeadModel,
)
from minitransformers.inference import fill_mask, next_sentence_score, sentence_embeddings
from minitransformers.pretrained import minilm_path
from minitransformers.tokenizers import load_tokenizer

TEXTS = [
    "A man is eating food.",
    "A man is eating a piece of bread, slowly, at the kitchen table.",
    "The stock market fell.",
    "Shall I compare thee to a summer's day?",
    "Hi",
]


@pytest.fixture(scope="module")
def minilm_dir():
    return minilm_path()


@pytest.fixture(scope="module")
def tokenizer(minilm_dir):
    return load_tokenizer(minilm_dir)


@pytest.fixture(scope="module")
def hf_tokenizer(minilm_dir):
    tok = HFTokenizer.from_file(str(minilm_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def _hf_batch(hf_tokenizer, texts):
    encodings = hf_tokenizer.encode_batch(texts)
    width = max(len(e.ids) for e in encodings)
    ids = torch.zeros(len(texts), width, dtype=torch.long)
    mask = torch.zeros(len(texts), width, dtype=torch.long)
    for row, e in enumerate(encodings):
        ids[row, :len(e.ids)] = torch.tensor(e.ids)
        mask[row, :len(e.ids)] = 1
    return ids, mask


def _tiny_hf_bert(hf_class, tmp_path, seed: int = 0):
    """A small random Hugging Face BERT with MiniLM's vocabulary, saved to disk."""
    torch.manual_seed(seed)
    config = transformers.BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=64,
                                     max_position_embeddings=64, initializer_range=0.2)
    model = hf_class(config).eval()
    model.save_pretrained(tmp_path)
    return model


def test_mean_embeddings_match_transformers_on_minilm(minilm_dir, tokenizer, hf_tokenizer):
    model = BertModel.from_pretrained(minilm_dir)
    ours = sentence_embeddings(model, tokenizer, TEXTS, batch_size=2)
    reference = transformers.BertModel.from_pretrained(minilm_dir).eval()
    ids, mask = _hf_batch(hf_tokenizer, TEXTS)
    with torch.no_grad():
        hidden = reference(input_ids=ids, attention_mask=mask).last_hidden_state
    summed = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    expected = F.normalize(summed, dim=-1)
    assert ours.shape == (len(TEXTS), 384)
    torch.testing.assert_close(ours, expected, atol=1e-5, rtol=0)
    cls = sentence_embeddings(model, tokenizer, TEXTS, pooling="cls", normalize=False)
    torch.testing.assert_close(cls, hidden[:, 0], atol=1e-5, rtol=1e-5)
    similarity = ours @ ours.T  # the two eating sentences are the closest pair
    assert similarity[0, 1] > similarity[0, 2] and similarity[0, 1] > similarity[1, 2]


@pytest.mark.parametrize("kind", ["bert", "gpt"])
def test_a_text_gets_the_same_vector_alone_and_in_a_padded_batch(kind, tokenizer):
    torch.manual_seed(0)
    if kind == "bert":
        model = BertForMaskedLM(BertConfig.preset("tiny", vocab_size=30522))
        poolings = ["mean", "cls", "last"]
    else:
        model = GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=30522))
        poolings = ["mean", "last"]
    for pooling in poolings:
        batched = sentence_embeddings(model, tokenizer, TEXTS, pooling=pooling, batch_size=3)
        alone = torch.cat([sentence_embeddings(model, tokenizer, [t], pooling=pooling) for t in TEXTS])
        torch.testing.assert_close(batched, alone, atol=1e-5, rtol=0)
        torch.testing.assert_close(batched.norm(dim=-1), torch.ones(len(TEXTS)))


def test_gpt_last_pooling_is_the_last_tokens_final_vector(tokenizer):
    torch.manual_seed(0)
    model = GPTLMHeadModel(GPTConfig.preset("tiny", vocab_size=30522)).eval()
    text = TEXTS[1]
    ids = torch.tensor([tokenizer.encode(text)])
    with torch.no_grad():
        expected = model(ids).last_hidden_state[:, -1]
    ours = sentence_embeddings(model, tokenizer, text, pooling="last", normalize=False)
    torch.testing.assert_close(ours, expected, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="causal"):
        sentence_embeddings(model, tokenizer, text, pooling="cls")


def test_fill_mask_matches_transformers_probabilities(tmp_path, tokenizer, hf_tokenizer):
    reference = _tiny_hf_bert(transformers.BertForMaskedLM, tmp_path)
    model = BertForMaskedLM.from_pretrained(tmp_path)
    text = "the [MASK] sat on the mat and the dog ate the [MASK] ."
    results = fill_mask(model, tokenizer, text, top_k=4)
    encoding = hf_tokenizer.encode(text)
    mask_positions = [i for i, token in enumerate(encoding.tokens) if token == "[MASK]"]
    with torch.no_grad():
        logits = reference(input_ids=torch.tensor([encoding.ids])).logits[0]
    assert len(results) == len(mask_positions) == 2
    for candidates, position in zip(results, mask_positions):
        expected = torch.softmax(logits[position], dim=-1).topk(4)
        assert [c["token_id"] for c in candidates] == expected.indices.tolist()
        torch.testing.assert_close(torch.tensor([c["probability"] for c in candidates]),
                                   expected.values, atol=1e-5, rtol=0)
        assert [c["token"] for c in candidates] == [hf_tokenizer.id_to_token(i)
                                                    for i in expected.indices.tolist()]
    first = results[0][0]
    assert first["sequence"].startswith(f"the {first['token']}") and "[MASK]" in first["sequence"]


def test_nsp_score_matches_transformers(tmp_path, tokenizer, hf_tokenizer):
    reference = _tiny_hf_bert(transformers.BertForPreTraining, tmp_path)
    model = BertForPreTraining.from_pretrained(tmp_path)
    for a, b in [("the cat sat on the mat .", "then it fell asleep ."), ("hello there", "bye")]:
        encoding = hf_tokenizer.encode(a, b)
        with torch.no_grad():
            logits = reference(input_ids=torch.tensor([encoding.ids]),
                               token_type_ids=torch.tensor([encoding.type_ids])).seq_relationship_logits
        expected = float(torch.softmax(logits[0], dim=-1)[0])
        assert next_sentence_score(model, tokenizer, a, b) == pytest.approx(expected, abs=1e-5)


def test_helpers_say_what_model_or_text_they_need(tokenizer):
    torch.manual_seed(0)
    config = BertConfig.preset("tiny", vocab_size=30522)
    with pytest.raises(ValueError, match=r"\[MASK\]"):
        fill_mask(BertForMaskedLM(config), tokenizer, "no blank here")
    with pytest.raises(TypeError, match="BertForMaskedLM"):
        fill_mask(BertModel(config), tokenizer, "a [MASK] here")
    with pytest.raises(TypeError, match="BertForPreTraining"):
        next_sentence_score(BertForMaskedLM(config), tokenizer, "a", "b")
    with pytest.raises(ValueError, match="pooling"):
        sentence_embeddings(BertModel(config), tokenizer, ["a"], pooling="max")


def test_fill_mask_understands_the_bracketed_mask_spelling_with_any_tokenizer():
    from minitransformers import BertForPreTraining, load_tokenizer
    from minitransformers.inference import fill_mask

    weights = Path(__file__).resolve().parents[1] / "weights" / "mini-bert-shakespeare"
    model, tokenizer = BertForPreTraining.from_pretrained(weights), load_tokenizer(weights)
    assert tokenizer.convert_ids_to_tokens(tokenizer.mask_token_id) == "<mask>"
    bracketed = fill_mask(model, tokenizer, "My lord, the [MASK] is dead.")
    native = fill_mask(model, tokenizer, "My lord, the <mask> is dead.")
    assert bracketed == native
    assert [c["token"] for c in native[0]] and all(not c["token"].startswith("Ġ") for c in native[0])
