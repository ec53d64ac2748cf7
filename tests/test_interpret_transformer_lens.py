"""interpret/ against TransformerLens 4 on the same weights: a live anchor, offline.

transformers writes a small random GPT-2 and BERT with ``save_pretrained``;
we load the folder with ``from_pretrained`` and TransformerLens wraps the
same model with ``TransformerBridge.boot_transformers(folder, hf_model=...)``.

Where both libraries mean the same thing the numbers agree within 1e-4:
the GPT-2 logit lens, activation patching (residual stream, MLP outputs,
each head at each position) on both families, and the induction score (we
average over the queries that can do induction, TransformerLens's
``detect_head`` over all queries: the same sum, another divisor).

Where they differ by design, the test says how: TransformerLens maps BERT's
MLM-transform LayerNorm to ``ln_final`` and its decoder to ``unembed``, so a
lens through those two skips the transform's dense layer and GELU; its own
``logit_lens`` tool refuses BERT for that reason. Ours reads the whole head.
"""

from __future__ import annotations

import os

import pytest
import torch
import transformers

if os.environ.get("CI"):  # CI installs the dev extra, which holds it: a missing install must fail, not skip
    import transformer_lens  # noqa: F401
else:
    pytest.importorskip("transformer_lens", reason="the dev extra installs it: pip install -e '.[dev]'")
from transformer_lens import patching  # noqa: E402
from transformer_lens.head_detector import (  # noqa: E402
    compute_head_attention_similarity_score, get_induction_head_detection_pattern,
)
from transformer_lens.model_bridge import TransformerBridge  # noqa: E402
from transformer_lens.tools.analysis import logit_lens as tl_logit_lens  # noqa: E402

from minitransformers import BertForMaskedLM, GPTLMHeadModel, run_with_cache  # noqa: E402
from minitransformers.interpret import (  # noqa: E402
    attention_patterns, induction_scores, logit_difference, logit_lens, patch_activations, repeated_random_tokens,
)

V, T, ATOL = 61, 8, 1e-4
pytestmark = pytest.mark.filterwarnings("ignore")


def _scaled(model):
    """Weights large enough that attention is far from uniform and every patch moves the metric."""
    torch.manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.normal_(0.0, 0.5)
            if parameter.dim() == 1:
                parameter.add_(1.0)
    return model.eval()


@pytest.fixture(scope="module", autouse=True)
def _offline():
    """Everything here is local: TransformerLens must not ask the hub for anything."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def gpt2_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt2")
    config = transformers.GPT2Config(vocab_size=V, n_embd=32, n_layer=2, n_head=4, n_positions=32,
                                     bos_token_id=1, eos_token_id=2, attn_implementation="eager")
    hf = _scaled(transformers.GPT2LMHeadModel(config))
    hf.save_pretrained(folder)
    bridge = TransformerBridge.boot_transformers(str(folder), hf_model=hf, device="cpu")
    return GPTLMHeadModel.from_pretrained(folder), bridge


@pytest.fixture(scope="module")
def bert_pair(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bert")
    config = transformers.BertConfig(vocab_size=V, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                     intermediate_size=48, max_position_embeddings=32, attn_implementation="eager")
    hf = _scaled(transformers.BertForMaskedLM(config))
    hf.save_pretrained(folder)
    bridge = TransformerBridge.boot_transformers(str(folder), hf_model=hf, device="cpu")
    return BertForMaskedLM.from_pretrained(folder), bridge


def _pair():
    clean = torch.randint(3, V, (1, T), generator=torch.Generator().manual_seed(3))
    corrupted = clean.clone()
    corrupted[0, 3] = (clean[0, 3] + 7) % V
    return clean, corrupted


# GPT scores the next token after the last position; BERT the token at the changed position, as at a [MASK].
METRICS = {"gpt2": logit_difference(target=5, foil=11, position=-1),
           "bert": logit_difference(target=5, foil=11, position=3)}


def test_gpt2_logit_lens_equals_transformer_lens(gpt2_pair):
    ours, bridge = gpt2_pair
    ids = _pair()[0]
    theirs = tl_logit_lens(bridge, ids, positions=None, return_type="logits")
    assert theirs.labels[0] == "0_pre" and theirs.labels[-1] == "final_post"
    torch.testing.assert_close(logit_lens(ours, ids).logits, theirs.values, atol=ATOL, rtol=0)


# Our kind, TransformerLens's function and the order of its axes.
TL_PATCHES = {
    "resid_pre": (patching.get_act_patch_resid_pre, None),
    "feedforward_out": (patching.get_act_patch_mlp_out, None),
    "head_outputs": (patching.get_act_patch_attn_head_out_by_pos, None),
}


@pytest.mark.parametrize("family", ["gpt2", "bert"])
@pytest.mark.parametrize("kind", TL_PATCHES)
def test_activation_patching_equals_transformer_lens(family, kind, gpt2_pair, bert_pair):
    ours, bridge = gpt2_pair if family == "gpt2" else bert_pair
    clean, corrupted = _pair()
    _, clean_cache = bridge.run_with_cache(clean)
    theirs = TL_PATCHES[kind][0](bridge, corrupted, clean_cache, METRICS[family])
    result = patch_activations(ours, clean, corrupted, METRICS[family], kind=kind)
    assert result.values.shape == theirs.shape
    torch.testing.assert_close(result.values, theirs.to(result.values.dtype), atol=ATOL, rtol=0)
    assert float(result.values.max() - result.values.min()) > 100 * ATOL  # the patches did move the metric


def test_induction_scores_equal_transformer_lens(gpt2_pair):
    ours, bridge = gpt2_pair
    ids = repeated_random_tokens(V, 12, batch=3, seed=5, low=3)  # (3, 24)
    _, cache = bridge.run_with_cache(ids)
    scores = induction_scores(attention_patterns(ours, ids), ids)
    # detect_head's "mul" score: the weight on the induction targets, divided by every query (t);
    # ours divides by the queries that have an earlier copy of their token (the 12 of the second half).
    theirs = torch.tensor([[sum(compute_head_attention_similarity_score(
        cache[f"blocks.{layer}.attn.hook_pattern"][row, head], get_induction_head_detection_pattern(ids[row]),
        exclude_bos=False, exclude_current_token=False, error_measure="mul") for row in range(3)) / 3
        for head in range(4)] for layer in range(2)])
    torch.testing.assert_close(scores, theirs * 24 / 12, atol=ATOL, rtol=0)
    assert float(scores.max() - scores.min()) > 100 * ATOL


def test_bert_logit_lens_differs_by_design_from_a_lens_through_ln_final(bert_pair):
    ours, bridge = bert_pair
    ids = _pair()[0]
    with pytest.raises(ValueError, match="mlm_head"):  # TransformerLens's own tool refuses BERT ...
        tl_logit_lens(bridge, ids, positions=None)
    _, cache = bridge.run_with_cache(ids)
    stack = cache.accumulated_resid(apply_ln=False)  # (l b t c), as the lens reads it
    through_ln_final = bridge.unembed(bridge.ln_final(stack))  # ... and its mapping skips dense + GELU
    # That reading is our MLM head without its dense layer and GELU, on the same streams ...
    _, our_cache = run_with_cache(ours, ids)
    head = ours.mlm_head
    ours_without_transform = head.decoder(head.norm(our_cache.residual_stream()))
    torch.testing.assert_close(through_ln_final, ours_without_transform, atol=ATOL, rtol=0)
    # ... while our lens reads the whole head, the model's own path: its last layer is the model's logits.
    lens = logit_lens(ours, ids).logits
    torch.testing.assert_close(lens[-1], ours(ids).logits, atol=1e-5, rtol=0)
    assert float((lens[-1] - through_ln_final[-1]).abs().max()) > 1.0
