"""Benchmark: peak memory of training and generation, ours against ``transformers``, and KV-cache growth.

Run:  python benchmarks/bench_memory.py [--quick] [--device auto|cpu|cuda]

* **training step** (forward, backward, AdamW) and **generation** (greedy,
  KV cache) of the same mini-GPT weights in ours and in ``transformers``'
  ``GPT2LMHeadModel`` (eager attention, like our manual path): the *rise* of
  peak RSS during the call above the RSS before it, and on CUDA
  ``torch.cuda.max_memory_allocated`` (weights included).
* **KV cache**: after a prompt of ``L - 1`` tokens and one generation step, in
  a cache of capacity ``L`` (what ``generate`` makes), what
  ``KVCache.size_in_bytes()`` reports (summed over layers) and what the cache
  really holds (the bytes of the distinct storages its key and value tensors
  live in: a view into a bigger buffer keeps all of it alive), each divided by
  ``L``. Linear growth means a constant bytes-per-token column, equal to
  ``2 (keys, values) * layers * hidden * bytes``; a cache made without a
  capacity grows by doubling and may hold up to twice that.
* **KV append per step**: time to add one token's keys and values to every
  layer at context ``L``: our in-place write into the preallocated buffer
  against the ``torch.cat`` of the whole cache that the library did before
  (and that re-copies ``L`` tokens per step: O(L) memory traffic instead of O(1)).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile

from common import Row, compare_times, format_table, machine_description, measure_peak_memory, mib, resolve_device

import torch
import transformers

from minitransformers import GPTLMHeadModel
from minitransformers.generation import generate
from minitransformers.kv_cache import KVCache, new_cache


def _load(kind: str, folder: str, device: torch.device):
    if kind == "ours":
        return GPTLMHeadModel.from_pretrained(folder, device=device)
    return transformers.GPT2LMHeadModel.from_pretrained(folder, attn_implementation="eager").to(device)


def child(kind: str, phase: str, folder: str, batch: int, context: int, device: torch.device) -> None:
    """Run in a fresh process: one training step or one generation, print the peaks as JSON.

    A fresh process, because inside a long-lived one the allocator keeps
    freed pages resident and reuses them, so a second measurement sees no rise.
    """
    model = _load(kind, folder, device)
    data = torch.randint(0, model.config.vocab_size, (batch, context), device=device)
    prompt = data[:1, : context - 32]

    def train_step() -> None:
        model.train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
        model(data, labels=data).loss.backward()
        optimizer.step()  # creates AdamW's two moment buffers: 2 x the weights

    @torch.no_grad()
    def generate_fn() -> None:
        model.eval()
        if kind == "ours":
            generate(model, prompt, 32, eos_token_id=[])
        else:
            model.generate(prompt, max_new_tokens=32, min_new_tokens=32, do_sample=False, pad_token_id=0)

    rss, cuda = measure_peak_memory(train_step if phase == "train" else generate_fn, device)
    print(json.dumps({"rss": rss, "cuda": cuda}))


def measure_in_child(kind: str, phase: str, folder: str, batch: int, context: int, device) -> tuple:
    command = [sys.executable, __file__, "--child", kind, phase, folder, str(batch), str(context),
               "--device", str(device)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"memory child {kind} {phase} failed:\n{result.stderr[-2000:]}")
    values = json.loads(result.stdout.strip().splitlines()[-1])
    return values["rss"], values["cuda"]


def cache_storage_bytes(cache) -> int:
    """Bytes of the distinct storages behind every cached key and value tensor."""
    storages = {}
    for layer in cache:
        for tensor in (layer.keys, layer.values):
            storage = tensor.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
    return sum(storages.values())


def kv_cache_rows(model: GPTLMHeadModel, contexts: list[int], device: torch.device, name: str) -> list[Row]:
    """Reported and real KV-cache bytes per token at each context; the reference is the formula."""
    config = model.config
    formula = 2 * config.n_layers * config.hidden_size * next(model.parameters()).element_size()
    rows = []
    print(f"  KV cache of {name} (batch 1): formula 2 * {config.n_layers} layers * {config.hidden_size} "
          f"* 4 bytes = {formula} bytes/token")
    for context in contexts:
        for capacity in (context, None):
            cache = new_cache(config.n_layers, capacity=capacity)
            prompt = torch.randint(0, config.vocab_size, (1, context), device=device)
            with torch.no_grad():
                model(prompt[:, :-1], cache=cache)  # the prompt in one go (prefill) ...
                model(prompt[:, -1:], cache=cache)  # ... then one generation step
            reported = sum(layer.size_in_bytes() for layer in cache)
            real = cache_storage_bytes(cache)
            kind = f"capacity {context}" if capacity else "growing"
            print(f"    context {context:5d}, {kind:<13}: size_in_bytes {reported / 2**20:7.2f} MiB "
                  f"({reported / context:6.0f} B/token), storage held {real / 2**20:7.2f} MiB "
                  f"({real / context:6.0f} B/token)")
            if capacity:
                rows.append(Row("memory", f"{name} KV cache bytes/token, context {context}", real / context,
                                formula, "B/token", note=f"size_in_bytes/token {reported / context:.0f}"))
    return rows


def kv_append_rows(model: GPTLMHeadModel, contexts: list[int], device: torch.device, name: str) -> list[Row]:
    """Microseconds to append one token to every layer: in place (ours) vs re-copying with torch.cat."""
    config = model.config
    b, h, d = 1, config.n_heads, config.hidden_size // config.n_heads
    rows = []
    for context in contexts:
        past = torch.randn(b, h, context, d, device=device)
        new, position = torch.randn(b, h, 1, d, device=device), torch.zeros(b, 1, dtype=torch.long, device=device)
        caches = [KVCache(capacity=context + 1) for _ in range(config.n_layers)]
        for cache in caches:
            cache.append(past, past, torch.zeros(b, context, dtype=torch.long, device=device))

        def in_place(caches=caches, context=context, new=new, position=position):
            for cache in caches:
                cache.length = context  # forget the token appended by the previous call
                cache.append(new, new, position)

        def concatenate(past=past, new=new):
            for _ in range(config.n_layers):
                torch.cat([past, new], dim=2), torch.cat([past, new], dim=2)

        threads = torch.get_num_threads()
        torch.set_num_threads(1)  # small copies: one thread is steadier on a shared machine
        seconds = compare_times({"ours": in_place, "cat": concatenate}, device, warmup=3, repeats=100)
        torch.set_num_threads(threads)
        ours_us, cat_us = 1e6 * seconds["ours"], 1e6 * seconds["cat"]
        print(f"    append one token, {config.n_layers} layers, context {context:5d}: in place {ours_us:8.1f} us, "
              f"torch.cat {cat_us:8.1f} us")
        rows.append(Row("memory", f"{name} KV append/step ctx {context} vs torch.cat", ours_us, cat_us, "us"))
    return rows


def run(device: torch.device, quick: bool) -> list[Row]:
    transformers.utils.logging.disable_progress_bar()
    mini = transformers.GPT2Config(vocab_size=8192, n_embd=256, n_layer=4, n_head=4, n_positions=256,
                                   bos_token_id=0, eos_token_id=0, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    batch, context = (8, 128) if quick else (32, 256)
    rows = []
    print(f"peak memory, mini-GPT float32, each in a fresh process: one training step b{batch} t{context} "
          f"(AdamW state included); greedy generation of 32 tokens after a {context - 32}-token prompt "
          f"(rise of peak RSS above the RSS once the model is loaded)")
    with tempfile.TemporaryDirectory() as folder:
        torch.manual_seed(0)
        transformers.GPT2LMHeadModel(mini).save_pretrained(folder)
        for phase in ("train", "generate"):
            our_rss, our_cuda = measure_in_child("ours", phase, folder, batch, context, device)
            their_rss, their_cuda = measure_in_child("transformers", phase, folder, batch, context, device)
            print(f"  {phase:<8} RSS rise ours {mib(our_rss):8.1f} MiB, transformers {mib(their_rss):8.1f} MiB"
                  + (f"; CUDA max allocated ours {mib(our_cuda):.1f} MiB, transformers {mib(their_cuda):.1f} MiB"
                     if our_cuda is not None else ""), flush=True)
            rows.append(Row("memory", f"mini-GPT {phase} peak RSS rise", mib(our_rss), mib(their_rss), "MiB"))
            if our_cuda is not None:
                rows.append(Row("memory", f"mini-GPT {phase} CUDA max allocated", mib(our_cuda),
                                mib(their_cuda), "MiB"))
        ours = GPTLMHeadModel.from_pretrained(folder, device=device).eval()
    rows += kv_cache_rows(ours, [32, 64, 128, 256], device, "mini-GPT")
    rows += kv_append_rows(ours, [256], device, "mini-GPT")
    if not quick:
        with tempfile.TemporaryDirectory() as folder:
            torch.manual_seed(0)
            transformers.GPT2LMHeadModel(transformers.GPT2Config()).save_pretrained(folder)
            ours = GPTLMHeadModel.from_pretrained(folder, device=device).eval()
        rows += kv_cache_rows(ours, [64, 256, 1024], device, "GPT-2 small")
        rows += kv_append_rows(ours, [256, 1024], device, "GPT-2 small")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller training batch, mini model only")
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--child", nargs=5, metavar=("KIND", "PHASE", "FOLDER", "BATCH", "CONTEXT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    device = resolve_device(args.device)
    if args.child:
        kind, phase, folder, batch, context = args.child
        child(kind, phase, folder, int(batch), int(context), device)
        return
    print(machine_description(device) + "\n")
    print("\n" + format_table(run(device, args.quick)))


if __name__ == "__main__":
    main()
