"""Benchmark: batched activation patching against one forward pass per patch, on the shipped models.

Run:  python benchmarks/bench_patching.py [--quick] [--device auto|cpu|cuda]

Patches every head at every position (and, as a second row, the residual
stream at every layer and position) of the shipped 6-layer mini-GPT and
mini-BERT on one famous line, clean against a one-word corruption:

* ``batched``: ``interpret.patch_activations`` (many patched copies of the
  corrupted input in one forward pass, 64 by default);
* ``loop``: ``interpret.patch_one`` once per patch, the plainest form (the
  clean run's cache is made once, outside the timed region);

both timed round-robin in this run (median); ratio = batched / loop
(lower is better). It also checks that both give the same numbers
(largest difference printed; the run fails above 1e-4).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch

from common import Row, compare_times, standalone_main  # noqa: E402  (benchmarks/ is on sys.path)

from minitransformers import BertForPreTraining, GPTLMHeadModel, load_tokenizer, run_with_cache
from minitransformers.interpret import logit_difference, patch_activations, patch_one
from minitransformers.interpret.patching import Patch

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
# One word swapped for another of one token: the inputs keep their length.
CLEAN, CORRUPTED = "I come to bury Caesar, not to praise him.", "I come to bury Brutus, not to praise him."


def _inputs(kind: str, tokenizer):
    """Clean and corrupted ids, and the metric: GPT predicts " him" after "praise"; BERT fills a [MASK] there."""
    him, them = tokenizer.encode_ordinary(" him")[0], tokenizer.encode_ordinary(" them")[0]
    pairs = []
    for text in (CLEAN, CORRUPTED):
        left = tokenizer.encode_ordinary(text.split(" him")[0])
        if kind == "gpt":
            pairs.append(left)
        else:
            pairs.append([tokenizer.cls_token_id, *left, tokenizer.mask_token_id,
                          *tokenizer.encode_ordinary("."), tokenizer.sep_token_id])
    clean, corrupted = (torch.tensor([ids]) for ids in pairs)
    if clean.shape != corrupted.shape:
        raise SystemExit("the clean and corrupted lines tokenize to different lengths; pick another word pair")
    position = -1 if kind == "gpt" else pairs[0].index(tokenizer.mask_token_id)
    return clean, corrupted, logit_difference(him, them, position=position)


def _loop(model, clean_cache, corrupted, metric, kind: str, shape) -> torch.Tensor:
    values = torch.zeros(shape)
    for index in torch.cartesian_prod(*(torch.arange(n) for n in shape)).tolist():
        patch = Patch(index[0], index[1], index[2] if len(index) == 3 else None)
        values[tuple(index)] = patch_one(model, corrupted, clean_cache, kind, patch, metric)
    return values


def _times(model, clean, corrupted, clean_cache, metric, kind: str, device, quick: bool) -> dict[str, float]:
    """Median seconds of the batched and the looped patching, timed round-robin."""
    shape = tuple(patch_activations(model, clean, corrupted, metric, kind=kind).values.shape)
    return compare_times({
        "batched": lambda: patch_activations(model, clean, corrupted, metric, kind=kind),
        "loop": lambda: _loop(model, clean_cache, corrupted, metric, kind, shape),
    }, device, warmup=0 if quick else 1, repeats=1 if quick else 3)


def run(device: torch.device, quick: bool) -> list[Row]:
    rows = []
    for name, cls, folder in (("mini-GPT", GPTLMHeadModel, "mini-gpt-shakespeare"),
                              ("mini-BERT", BertForPreTraining, "mini-bert-shakespeare")):
        model = cls.from_pretrained(WEIGHTS / folder, device=device)
        tokenizer = load_tokenizer(WEIGHTS / folder)
        clean, corrupted, metric = _inputs("gpt" if cls is GPTLMHeadModel else "bert", tokenizer)
        clean, corrupted = clean.to(device), corrupted.to(device)
        _, clean_cache = run_with_cache(model, clean)
        for kind in ("head_outputs", "resid_pre"):
            batched = patch_activations(model, clean, corrupted, metric, kind=kind)
            looped = _loop(model, clean_cache, corrupted, metric, kind, tuple(batched.values.shape))
            difference = float((batched.values - looped).abs().max())
            n_patches = batched.values.numel()
            print(f"{name} {kind}: {n_patches} patches {tuple(batched.values.shape)} "
                  f"({' x '.join(batched.dims)}), largest batched-loop difference {difference:.1e}")
            if difference > 1e-4:
                raise SystemExit(f"batched and looped patching disagree by {difference:.2e} (> 1e-4)")
            times = _times(model, clean, corrupted, clean_cache, metric, kind, device, quick)
            print(f"  batched {times['batched']:.2f} s, loop {times['loop']:.2f} s, "
                  f"ratio {times['batched'] / times['loop']:.3f}")
            rows.append(Row("patching", f"{name} {kind}, {n_patches} patches, t={clean.shape[1]}",
                            times["batched"], times["loop"], "s", note="one run per patch as reference"))
    return rows


if __name__ == "__main__":
    standalone_main(__doc__, run, "one timed round instead of three, no warm-up")
