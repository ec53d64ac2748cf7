"""bfloat16 against float32 on real checkpoints, with tolerances derived from bfloat16's precision.

bfloat16 keeps 8 significant bits: each rounding is off by up to 2**-8 ~ 0.4%
of the value. A forward pass rounds after every matrix product and norm, and
independent rounding errors add up like a random walk, so after a few dozen
roundings per layer we expect errors of a few percent of the activations'
scale, not of their size per element; directions of pooled vectors (what
embeddings are used for) should agree to about 1e-3 in cosine.
"""

import torch
import torch.nn.functional as F

import minitransformers as mt

BF16_UNIT_ROUNDOFF = 2.0**-8


def _minilm_batch():
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(mt.minilm_path() / "tokenizer.json"))
    tokenizer.enable_padding(pad_id=0)
    texts = ["The quick brown fox jumps over the lazy dog.", "Café crème, s'il vous plaît!",
             "我喜欢机器学习", "short", "Emoji 🙂 and numbers 12345."]
    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings])
    return ids, torch.tensor([e.attention_mask for e in encodings])


def _mean_pool(hidden, attention_mask):
    summed = (hidden * attention_mask[..., None]).sum(1) / attention_mask.sum(1, keepdim=True)
    return F.normalize(summed, dim=-1)


def test_minilm_bfloat16_agrees_with_float32():
    ids, attention_mask = _minilm_batch()
    path = mt.minilm_path()
    full = mt.BertModel.from_pretrained(path)(ids, attention_mask=attention_mask).last_hidden_state
    half_model = mt.BertModel.from_pretrained(path, dtype=torch.bfloat16)
    half = half_model(ids, attention_mask=attention_mask).last_hidden_state
    assert half.dtype == torch.bfloat16
    real = attention_mask.bool()
    error = (full - half.float())[real].abs().mean()
    scale = full[real].abs().mean()
    # Measured: ~1.2% of the scale. Allowed: 8 unit roundoffs (3%).
    assert error / scale < 8 * BF16_UNIT_ROUNDOFF
    cosine = (_mean_pool(full, attention_mask) * _mean_pool(half.float(), attention_mask)).sum(-1)
    assert (cosine > 0.999).all()


def test_gpt2_format_checkpoint_bfloat16_agrees_with_float32(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    config = GPT2Config(n_layer=4, n_head=4, n_embd=128, vocab_size=1000, n_positions=128,
                        bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    ids = torch.randint(0, 1000, (2, 32))
    full = mt.GPTLMHeadModel.from_pretrained(tmp_path)(ids).logits
    half = mt.GPTLMHeadModel.from_pretrained(tmp_path, dtype=torch.bfloat16)(ids).logits.float()
    # Measured: max error ~3% of the logits' spread; next-token distributions nearly identical.
    assert (full - half).abs().max() / full.std() < 16 * BF16_UNIT_ROUNDOFF
    kl = (full.softmax(-1) * (full.log_softmax(-1) - half.log_softmax(-1))).sum(-1)
    assert kl.max() < 1e-4
