"""Benchmark: forward and forward+backward time of our GPT and BERT against ``transformers``, same weights.

Run:  python benchmarks/bench_forward.py [--quick] [--device auto|cpu|cuda]

For each model size (the ``mini`` presets, GPT-2 small, BERT-base) we build
the ``transformers`` model with random weights, ``save_pretrained`` it to a
temporary folder and load *the same file* into ours, so both compute the
same numbers. Then, over a batch x length grid, we time:

* **forward**: ``model(input_ids)`` under ``torch.no_grad()``;
* **forward+backward**: the same with gradients on, then ``loss.backward()``
  (GPT: the language-model loss on ``labels = input_ids``; BERT: the mean
  square of the last hidden state, a stand-in loss that touches every
  output). Dropout is off (eval mode) on both sides, so the work is equal.

Attention kinds are compared like for like: our hand-written ``"manual"``
path against ``transformers``' ``attn_implementation="eager"`` (also
hand-written), and our ``"sdpa"`` against theirs (both call torch's fused
``scaled_dot_product_attention``). The ratio is ours / theirs: below 1
means ours is faster.
"""

from __future__ import annotations

import tempfile

from common import Row, compare_times, standalone_main

import torch
import transformers

from minitransformers import BertModel, GPTLMHeadModel


def _hf_configs(quick: bool) -> dict[str, tuple[str, object, list[tuple[int, int]]]]:
    """name -> (family, transformers config with dropout off, (batch, length) grid)."""
    no_drop_gpt = dict(resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    no_drop_bert = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    mini_gpt = transformers.GPT2Config(vocab_size=8192, n_embd=256, n_layer=4, n_head=4, n_positions=256,
                                       bos_token_id=0, eos_token_id=0, **no_drop_gpt)
    mini_bert = transformers.BertConfig(vocab_size=8192, hidden_size=256, num_hidden_layers=4,
                                        num_attention_heads=4, intermediate_size=1024,
                                        max_position_embeddings=256, **no_drop_bert)
    if quick:  # GPT-2-small and BERT-base take seconds per call on a small CPU: full run only
        return {"gpt-mini": ("gpt", mini_gpt, [(8, 128)]), "bert-mini": ("bert", mini_bert, [(8, 128)])}
    mini_grid = [(1, 64), (8, 64), (1, 256), (8, 256)]
    base_grid = [(1, 128), (8, 128), (1, 512)]
    return {
        "gpt-mini": ("gpt", mini_gpt, mini_grid),
        "bert-mini": ("bert", mini_bert, mini_grid),
        "gpt2": ("gpt", transformers.GPT2Config(**no_drop_gpt), base_grid),
        "bert-base": ("bert", transformers.BertConfig(**no_drop_bert), base_grid),
    }


def build_pair(family: str, hf_config, attention: str, device: torch.device, dtype: torch.dtype):
    """``(ours, theirs)`` with the same random weights; ``attention`` is "manual" or "sdpa"."""
    torch.manual_seed(0)
    hf_class = transformers.GPT2LMHeadModel if family == "gpt" else transformers.BertModel
    our_class = GPTLMHeadModel if family == "gpt" else BertModel
    hf_attention = "eager" if attention == "manual" else "sdpa"
    with tempfile.TemporaryDirectory() as folder:
        hf_class(hf_config).save_pretrained(folder)
        ours = our_class.from_pretrained(folder, attn_impl=attention, device=device, dtype=dtype)
        theirs = hf_class.from_pretrained(folder, dtype=dtype, attn_implementation=hf_attention)
    return ours.to(device).eval(), theirs.to(device).eval()


def _loss(family: str, model, input_ids: torch.Tensor) -> torch.Tensor:
    if family == "gpt":
        return model(input_ids, labels=input_ids).loss
    return model(input_ids).last_hidden_state.float().pow(2).mean()


def run(device: torch.device, quick: bool, dtype: torch.dtype | None = None) -> list[Row]:
    """Time every (model, attention, batch, length, pass) and return the summary rows."""
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    repeats = 3 if quick else 5
    transformers.utils.logging.disable_progress_bar()
    rows = []
    print(f"forward / forward+backward, {dtype}, median of {repeats} interleaved runs; "
          f"ratio = ours / transformers (below 1: ours faster)")
    for name, (family, hf_config, grid) in _hf_configs(quick).items():
        for attention in ("manual", "sdpa"):
            ours, theirs = build_pair(family, hf_config, attention, device, dtype)
            for batch, length in grid:
                input_ids = torch.randint(0, hf_config.vocab_size, (batch, length),
                                          generator=torch.Generator().manual_seed(length)).to(device)

                def forward(model, input_ids=input_ids):
                    with torch.no_grad():
                        return model(input_ids)

                def forward_backward(model, family=family, input_ids=input_ids):
                    model.zero_grad(set_to_none=True)
                    _loss(family, model, input_ids).backward()

                setting = f"{name} {attention} b{batch} t{length}"
                for kind, fn in (("fwd", forward), ("fwd+bwd", forward_backward)):
                    times = compare_times({"ours": lambda fn=fn, m=ours: fn(m),
                                           "theirs": lambda fn=fn, m=theirs: fn(m)},
                                          device, warmup=1, repeats=repeats)
                    row = Row("forward", f"{setting} {kind}", times["ours"] * 1e3, times["theirs"] * 1e3, "ms")
                    print(f"  {row.setting:<42} ours {row.ours:9.2f} ms  transformers {row.reference:9.2f} ms  "
                          f"ratio {row.ratio:5.2f}", flush=True)
                    rows.append(row)
            del ours, theirs
    return rows


def main() -> None:
    standalone_main(__doc__, run, quick_help="one shape per model size")


if __name__ == "__main__":
    main()
