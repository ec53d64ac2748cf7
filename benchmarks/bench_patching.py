"""Benchmark: activation patching against a lean loop of forward passes with one torch hook each.

Run:  python benchmarks/bench_patching.py [--quick] [--device auto|cpu|cuda]

Patches every head at every position (and, as a second row, the residual
stream at every layer and position) of the shipped 6-layer mini-GPT and
mini-BERT on one famous line, clean against a one-word corruption:

* ``lean`` (the baseline): for each patch, one ``register_forward_hook`` on
  the hook point, one forward pass under ``no_grad``, the hook removed,
  the metric read. The hook points and the clean activations are looked up
  once, outside the timed region: nothing but the patched forward passes;
* ``patch_one``: ``interpret.patch_one`` once per patch, the plainest form
  the library offers (with its checks, hook names and eval mode); goal:
  at most 1.1x the lean loop;
* ``batched``: ``interpret.patch_activations`` (many patched copies of the
  corrupted input in one forward pass, 64 by default).

All three are timed round-robin in this run (median); ratio = contestant /
lean (lower is better). It also checks that all three give the same numbers
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
from minitransformers.body import find_body
from minitransformers.interpret import logit_difference, patch_activations, patch_one
from minitransformers.interpret.patching import HOOK_PATHS, Patch

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"
# One word swapped for another of one token: the inputs keep their length.
CLEAN, CORRUPTED = "I come to bury Caesar, not to praise him.", "I come to bury Brutus, not to praise him."
PATCH_ONE_GOAL = 1.1  # patch_one / lean


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


def _patches(shape) -> list[Patch]:
    """One patch per cell of a ``(layer, position)`` or ``(layer, position, head)`` result."""
    return [Patch(index[0], index[1], index[2] if len(index) == 3 else None)
            for index in torch.cartesian_prod(*(torch.arange(n) for n in shape)).tolist()]


def _lean_setup(model, clean_cache, kind: str, n_layers: int):
    """Per layer: the hook point module and the clean activation it gets, looked up once."""
    prefix = find_body(model)[1]
    names = [f"blocks.{layer}.{HOOK_PATHS[kind]}" for layer in range(n_layers)]
    return [(model.get_submodule(prefix + name), clean_cache[name]) for name in names]


def _lean(model, setup, corrupted, metric, patches) -> list[float]:
    """The baseline: for each patch a plain torch hook around one forward pass, nothing else."""
    values = []
    for patch in patches:
        point, clean = setup[patch.layer]

        def put_clean(module, inputs, output, patch=patch, clean=clean):
            patched = output.clone()
            if output.dim() == 4:  # (b h t d): one head at one position
                patched[:, patch.head, patch.position] = clean[:, patch.head, patch.position]
            else:  # (b t c)
                patched[:, patch.position] = clean[:, patch.position]
            return patched

        with torch.no_grad():
            handle = point.register_forward_hook(put_clean)
            try:
                logits = model(corrupted).logits
            finally:
                handle.remove()
        values.append(float(metric(logits)))
    return values


def _loop(model, clean_cache, corrupted, metric, kind: str, patches) -> list[float]:
    return [patch_one(model, corrupted, clean_cache, kind, patch, metric) for patch in patches]


def _one_kind(name: str, model, clean, corrupted, clean_cache, metric, kind: str, device, quick: bool) -> list[Row]:
    """Check that the three agree, time them round-robin, print the ratios, return two rows."""
    batched = patch_activations(model, clean, corrupted, metric, kind=kind)
    shape, patches = tuple(batched.values.shape), _patches(batched.values.shape)
    setup = _lean_setup(model, clean_cache, kind, shape[0])
    lean = torch.tensor(_lean(model, setup, corrupted, metric, patches)).reshape(shape)
    looped = torch.tensor(_loop(model, clean_cache, corrupted, metric, kind, patches)).reshape(shape)
    difference = max(float((batched.values - lean).abs().max()), float((looped - lean).abs().max()))
    print(f"{name} {kind}: {len(patches)} patches {shape} ({' x '.join(batched.dims)}), "
          f"largest difference from the lean loop {difference:.1e}")
    if difference > 1e-4:
        raise SystemExit(f"patching and the lean loop disagree by {difference:.2e} (> 1e-4)")
    times = compare_times({
        "lean": lambda: _lean(model, setup, corrupted, metric, patches),
        "patch_one": lambda: _loop(model, clean_cache, corrupted, metric, kind, patches),
        "batched": lambda: patch_activations(model, clean, corrupted, metric, kind=kind),
    }, device, warmup=0 if quick else 1, repeats=1 if quick else 3)
    ratio = times["patch_one"] / times["lean"]
    verdict = "within" if ratio <= PATCH_ONE_GOAL else "ABOVE"
    print(f"  lean {times['lean']:.2f} s, patch_one {times['patch_one']:.2f} s, batched {times['batched']:.2f} s; "
          f"patch_one / lean = {ratio:.3f} ({verdict} the goal of {PATCH_ONE_GOAL}), "
          f"batched / lean = {times['batched'] / times['lean']:.3f}")
    setting = f"{name} {kind}, {len(patches)} patches, t={clean.shape[1]}"
    return [Row("patching", f"{setting}, patch_one", times["patch_one"], times["lean"], "s",
                note=f"lean hook loop as reference; goal <= {PATCH_ONE_GOAL}"),
            Row("patching", f"{setting}, batched", times["batched"], times["lean"], "s",
                note="lean hook loop as reference")]


def run(device: torch.device, quick: bool) -> list[Row]:
    rows = []
    for name, cls, folder in (("mini-GPT", GPTLMHeadModel, "mini-gpt-shakespeare"),
                              ("mini-BERT", BertForPreTraining, "mini-bert-shakespeare")):
        model = cls.from_pretrained(WEIGHTS / folder, device=device).eval()
        tokenizer = load_tokenizer(WEIGHTS / folder)
        clean, corrupted, metric = _inputs("gpt" if cls is GPTLMHeadModel else "bert", tokenizer)
        clean, corrupted = clean.to(device), corrupted.to(device)
        _, clean_cache = run_with_cache(model, clean)
        for kind in ("head_outputs", "resid_pre"):
            rows += _one_kind(name, model, clean, corrupted, clean_cache, metric, kind, device, quick)
    return rows


if __name__ == "__main__":
    standalone_main(__doc__, run, "one timed round instead of three, no warm-up")
