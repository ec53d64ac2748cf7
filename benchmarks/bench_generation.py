"""Benchmark: generation speed of mini-GPT with and without the KV cache, compiled, and against transformers.

Run:  python benchmarks/bench_generation.py [--quick] [--device cuda] [--compile | --no-compile]
      python benchmarks/bench_generation.py --profile [--contexts 1024]   # prefill vs decode, top operators

Builds a GPT-2-shaped model (random weights: speed does not depend on
them) with ``transformers``, saves it with ``save_pretrained`` and loads
the same checkpoint into our ``GPTLMHeadModel``. Then, at each context
length (the prompt fills the context up to the new tokens), it times
greedy generation of the same number of new tokens, batch 1, with:

* ours, hand-written attention, with the (preallocated) KV cache and without it,
* ours with ``attn_impl="sdpa"`` (torch's fused attention), with the cache,
* ours compiled: ``generate(..., compile=True)``, sdpa, the one-token step
  captured by ``torch.compile(mode="reduce-overhead")`` (CUDA graphs on a GPU)
  on a static cache (on by default on CUDA; ``--compile`` on CPU),
* ``transformers``' ``GPT2LMHeadModel.generate``, eager (not compiled), its
  default dynamic cache, default (sdpa) and eager attention,

and prints new tokens per second (median of ``--repeats`` runs after one
warm-up, which also pays for compilation), the speed-up the cache gives,
our speed relative to ``transformers``, and whether ours and theirs chose
the same tokens. ``--quick``: on CPU a 2-layer, 128-wide GPT-2 (smoke run);
on CUDA GPT-2 small at contexts 256 and 1024 (about a minute on an H100).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import transformers

from common import Row, compare_times, format_table, machine_description, resolve_device  # noqa: E402

from minitransformers import GPTLMHeadModel
from minitransformers.generation import generate


def build_models(config: transformers.GPT2Config, device: torch.device, dtype: torch.dtype):
    """The same random weights in transformers (default and eager attention) and in ours (manual, sdpa)."""
    torch.manual_seed(0)
    reference = transformers.GPT2LMHeadModel(config).eval()
    with tempfile.TemporaryDirectory() as folder:
        reference.save_pretrained(folder)
        models = {
            "ours": GPTLMHeadModel.from_pretrained(folder, device=device, dtype=dtype),
            "ours_sdpa": GPTLMHeadModel.from_pretrained(folder, attn_impl="sdpa", device=device,
                                                        dtype=dtype),
            "hf": transformers.GPT2LMHeadModel.from_pretrained(folder, dtype=dtype).to(device).eval(),
            "hf_eager": transformers.GPT2LMHeadModel.from_pretrained(
                folder, dtype=dtype, attn_implementation="eager").to(device).eval(),
        }
    return models


def run(device: torch.device, quick: bool, *, contexts: list[int] | None = None, n_new: int | None = None,
        repeats: int = 3, dtype: torch.dtype | None = None, skip_no_cache_above: int | None = None,
        compile: bool | None = None) -> list[Row]:
    """Print the generation table and return summary rows for ``run_all.py``."""
    compile = device.type == "cuda" if compile is None else compile
    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    if quick and device.type != "cuda":
        config = transformers.GPT2Config(n_layer=2, n_embd=128, n_head=4, n_positions=256)
        contexts, n_new = contexts or [64, 256], n_new or 8
    else:
        config = transformers.GPT2Config()  # GPT-2 small: 12 layers, 768 wide, 1024 positions
        contexts, n_new = contexts or [256, 1024], n_new or (64 if device.type == "cuda" else 32)
    transformers.utils.logging.disable_progress_bar()
    rows = []
    with torch.no_grad():
        models = build_models(config, device, dtype)
        print(f"device {device}, {dtype}, torch {torch.__version__}, transformers {transformers.__version__}")
        print(f"model: {config.n_layer} layers, width {config.n_embd}, {config.n_head} heads, "
              f"vocab {config.vocab_size}; batch 1, greedy, {n_new} new tokens, median of {repeats} runs\n")
        header = (f"{'context':>7} | {'ours cache':>10} {'no-cache':>8} {'sdpa':>7} {'compiled':>8} | "
                  f"{'hf':>7} {'hf eager':>8} | {'cache/no':>8} {'ours/hf-e':>9} {'sdpa/hf':>7} "
                  f"{'comp/hf':>7} | same ids")
        print(header + "\n" + "-" * len(header))
        for context in contexts:
            prompt_length = context - n_new  # the sequence ends exactly at the context length
            if prompt_length < 1 or context > config.n_positions:
                print(f"{context:>7} | skipped: needs {n_new} < context <= {config.n_positions}")
                continue
            prompt = torch.randint(0, config.vocab_size, (1, prompt_length),
                                   generator=torch.Generator().manual_seed(context)).to(device)

            def ours(model, n=n_new, prompt=prompt, **options):
                return lambda: generate(model, prompt, n, eos_token_id=[], **options)

            def theirs(model, prompt=prompt):
                return lambda: model.generate(prompt, max_new_tokens=n_new, min_new_tokens=n_new,
                                              do_sample=False, use_cache=True,
                                              pad_token_id=config.eos_token_id)

            nan = float("nan")
            runners = {"cache": ours(models["ours"]), "sdpa": ours(models["ours_sdpa"]),
                       "hf": theirs(models["hf"]), "hf_eager": theirs(models["hf_eager"])}
            if compile:
                runners["compiled"] = ours(models["ours_sdpa"], compile=True)
            # Round-robin (cache, sdpa, hf, ...): load from other processes hits every contestant alike.
            seconds = compare_times(runners, device, warmup=1, repeats=repeats)
            speed = {name: n_new / value for name, value in seconds.items()}
            speed.setdefault("compiled", nan)
            if skip_no_cache_above is None or context <= skip_no_cache_above:
                # Without the cache every step is a full pass over the context, so its speed per
                # token barely depends on how many are made: time 4, against the cache again.
                n_short = min(n_new, 4)
                short = compare_times({"cache": ours(models["ours"], n=n_short),
                                       "no_cache": ours(models["ours"], n=n_short, use_cache=False)},
                                      device, warmup=1, repeats=1 if context > 256 else repeats)
                speed["no_cache"] = speed["cache"] * short["cache"] / short["no_cache"]
            else:
                speed["no_cache"] = nan
            ours_ids, hf_ids = runners["cache"](), runners["hf"]()
            compiled_ids = runners["compiled"]() if compile else ours_ids
            same = torch.equal(ours_ids.cpu(), hf_ids.cpu()) and torch.equal(compiled_ids.cpu(), ours_ids.cpu())
            print(f"{context:>7} | {speed['cache']:>10.1f} {speed['no_cache']:>8.1f} {speed['sdpa']:>7.1f} "
                  f"{speed['compiled']:>8.1f} | {speed['hf']:>7.1f} {speed['hf_eager']:>8.1f} | "
                  f"{speed['cache'] / speed['no_cache']:>7.2f}x {speed['cache'] / speed['hf_eager']:>8.2f}x "
                  f"{speed['sdpa'] / speed['hf']:>6.2f}x {speed['compiled'] / speed['hf']:>6.2f}x | "
                  f"{'yes' if same else 'NO'}", flush=True)
            name = f"{config.n_layer}L-{config.n_embd} ctx {context}"
            note = "" if same else "token ids differ (ours/hf/compiled)"
            rows += [
                Row("generation", f"{name} manual+cache vs hf eager", speed["cache"], speed["hf_eager"], "tok/s",
                    True, note),
                Row("generation", f"{name} sdpa+cache vs hf sdpa", speed["sdpa"], speed["hf"], "tok/s", True),
                Row("generation", f"{name} manual: cache vs no cache", speed["cache"], speed["no_cache"],
                    "tok/s", True),
            ]
            if compile:
                rows.append(Row("generation", f"{name} compiled vs hf sdpa", speed["compiled"], speed["hf"],
                                "tok/s", True))
    print("\nSpeeds are new tokens per second. cache/no = ours with / without the KV cache; ours/hf-e = ours "
          "(manual, cache) / transformers eager attention; sdpa/hf and comp/hf = ours sdpa, eager or "
          "compiled / transformers' default (sdpa) attention; above 1 means ours is faster.")
    return rows


def profile_split(device: torch.device, context: int, n_new: int, dtype: torch.dtype | None = None) -> None:
    """Where generation time goes, GPT-2 small: prefill vs per-token decode, and the top operators.

    For ours (hand-written and sdpa) and ``transformers`` (eager and sdpa):
    the prefill is a generation of one token, the decode cost per token is
    ``(time(n) - time(1)) / (n - 1)`` (medians of 3, round-robin); then one
    ``torch.profiler`` table per contestant for a whole ``n``-token generation.
    """
    from torch.profiler import ProfilerActivity, profile

    dtype = dtype or (torch.bfloat16 if device.type == "cuda" else torch.float32)
    config = transformers.GPT2Config()
    transformers.utils.logging.disable_progress_bar()
    prompt = torch.randint(0, config.vocab_size, (1, context - n_new),
                           generator=torch.Generator().manual_seed(context)).to(device)
    with torch.no_grad():
        models = build_models(config, device, dtype)

        def runner(name, n):
            model = models[name]
            if name.startswith("ours"):
                return lambda: generate(model, prompt, n, eos_token_id=[])
            return lambda: model.generate(prompt, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                          pad_token_id=config.eos_token_id)

        names = {"ours": "ours, hand-written", "hf_eager": "transformers, eager",
                 "ours_sdpa": "ours, sdpa", "hf": "transformers, sdpa"}
        runners = {(name, n): runner(name, n) for name in names for n in (1, n_new)}
        seconds = compare_times(runners, device, warmup=1, repeats=3)
        print(f"GPT-2 small, {dtype}, context {context} ({context - n_new} prompt + {n_new} new tokens), "
              f"batch 1, greedy, medians of 3:")
        for name, label in names.items():
            prefill, whole = seconds[(name, 1)], seconds[(name, n_new)]
            decode = (whole - prefill) / (n_new - 1)
            print(f"  {label:<22} prefill {prefill * 1e3:8.1f} ms   decode {decode * 1e3:6.1f} ms/token")
        for name, label in names.items():
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                runners[(name, n_new)]()
            print(f"\n== {label}: one generation of {n_new} tokens")
            print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="a 2-layer, 128-wide model, contexts 64 and 256, 8 new tokens (CI smoke run)")
    parser.add_argument("--contexts", type=int, nargs="+", default=None,
                        help="context lengths (default: 64 256 1024)")
    parser.add_argument("--new-tokens", type=int, default=None, help="tokens generated per run (default: 32)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per setting (default: 3)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dtype", choices=("float32", "bfloat16", "float16"), default=None,
                        help="default: bfloat16 on CUDA, float32 on CPU")
    parser.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                        help="time generate(compile=True) too (default: on CUDA only)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--skip-no-cache-above", type=int, default=None,
                        help="skip the slow no-cache run for contexts longer than this")
    parser.add_argument("--profile", action="store_true",
                        help="GPT-2 small at the first context: prefill vs decode time and top operators")
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(machine_description(device) + "\n")
    if args.profile:
        profile_split(device, (args.contexts or [256])[0], args.new_tokens or 16,
                      args.dtype and getattr(torch, args.dtype))
        return
    rows = run(device, args.quick, contexts=args.contexts, n_new=args.new_tokens, repeats=args.repeats,
               dtype=args.dtype and getattr(torch, args.dtype), skip_no_cache_above=args.skip_no_cache_above,
               compile=args.compile)
    print("\n" + format_table(rows))


if __name__ == "__main__":
    main()
