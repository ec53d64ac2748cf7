"""Learning byte-level BPE merges from a corpus.

BPE training starts from the 256 byte tokens and repeats one step: find the
adjacent pair of tokens that occurs most often in the corpus, add the pair
glued together as a new token, and replace it everywhere. The order of the
merges is the tokenizer's "merges.txt".

Counting all pairs again after every merge would cost a pass over the whole
corpus per merge. Instead we count once and then *update* the counts: a merge
of (a, b) only changes the pairs next to each a b it replaces, and only in the
words that contain a b (we keep, for each pair, the set of words it occurs in).
A heap gives the most frequent pair; a heap entry whose count has gone stale
is corrected when it comes to the top.

Words are counted once each (a corpus of millions of words has only tens of
thousands of different ones), and merges never cross word boundaries.
Ties between equally frequent pairs go to the pair of smaller token ids, which
is also what Hugging Face ``tokenizers`` does, so both trainers learn the same
merges from the same text.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

from tqdm import tqdm  # plain text bars: work in terminals and notebooks without ipywidgets

from minitransformers.tokenizers.byte_level import BYTE_TO_CHAR, GPT2_PATTERN, text_to_byte_chars
from minitransformers.tokenizers.byte_level_bpe import ENDOFTEXT, ByteLevelBPETokenizer

Pair = tuple[int, int]


def count_words(texts: Iterable[str]) -> Counter[str]:
    """How often each pre-tokenized word occurs, words written in byte characters (``"Ġthe"``)."""
    raw = Counter(word for text in texts for word in GPT2_PATTERN.findall(text))
    return Counter({text_to_byte_chars(word): n for word, n in raw.items()})


def _merge_word(word: list[int], a: int, b: int, new: int) -> list[tuple[Pair, int]]:
    """Replace every ``a b`` in ``word`` (in place, left to right) by ``new``.

    Returns the pair-count changes this causes in the word, e.g. for ``x a b y``:
    ``(x, a)`` -1, ``(x, new)`` +1, ``(b, y)`` -1, ``(new, y)`` +1.
    """
    changes = []
    i = 0
    while i < len(word) - 1:
        if word[i] == a and word[i + 1] == b:
            if i > 0:
                changes += [((word[i - 1], a), -1), ((word[i - 1], new), 1)]
            word[i : i + 2] = [new]
            if i + 1 < len(word):
                changes += [((b, word[i + 1]), -1), ((new, word[i + 1]), 1)]
        i += 1
    return changes


def train_bpe(
    texts: Iterable[str],
    vocab_size: int,
    special_tokens: Sequence[str] = (ENDOFTEXT,),
    min_frequency: int = 2,
    show_progress: bool = True,
) -> ByteLevelBPETokenizer:
    """Learn a byte-level BPE tokenizer from texts.

    Args:
        texts: the corpus, e.g. a list of documents or of lines.
        vocab_size: final number of tokens: special tokens + 256 bytes + merges.
        special_tokens: get the first ids. ``<|endoftext|>`` becomes ``eos``/``bos``,
            ``<pad>`` or ``<|pad|>`` becomes ``pad``; others are matched whole in text.
        min_frequency: stop early when the best pair occurs fewer times than this.

    Returns:
        A :class:`ByteLevelBPETokenizer` (it can encode any string: all bytes are in it).
    """
    if len(set(special_tokens)) != len(special_tokens):
        raise ValueError(f"special_tokens has duplicates: {list(special_tokens)}")
    alphabet = sorted(BYTE_TO_CHAR.values())  # code-point order, like the reference trainer
    id_to_token = list(special_tokens) + alphabet
    if vocab_size < len(id_to_token):
        raise ValueError(
            f"vocab_size={vocab_size} is smaller than the {len(special_tokens)} special tokens "
            f"+ 256 byte tokens; use at least {len(id_to_token)}"
        )
    token_to_id = {t: i for i, t in enumerate(id_to_token)}

    word_counts = count_words(texts)
    words = [[token_to_id[c] for c in word] for word in word_counts]
    counts = list(word_counts.values())

    # Count every adjacent pair once, remembering which words it occurs in.
    pair_counts: dict[Pair, int] = defaultdict(int)
    where: dict[Pair, set[int]] = defaultdict(set)
    for w, (word, n) in enumerate(zip(words, counts)):
        for pair in itertools.pairwise(word):
            pair_counts[pair] += n
            where[pair].add(w)
    # Max-heap via negated counts; equal counts pop the smaller pair first.
    heap = [(-n, pair) for pair, n in pair_counts.items()]
    heapq.heapify(heap)

    merges: list[tuple[str, str]] = []
    progress = tqdm(
        total=vocab_size - len(id_to_token), desc="BPE merges", disable=not show_progress
    )
    while len(id_to_token) < vocab_size and heap:
        negative_count, pair = heapq.heappop(heap)
        count = pair_counts[pair]
        if -negative_count != count:  # stale entry: put it back with its true count
            if count > 0:
                heapq.heappush(heap, (-count, pair))
            continue
        if count < max(min_frequency, 1):
            break
        a, b = pair
        new = len(id_to_token)
        id_to_token.append(id_to_token[a] + id_to_token[b])
        merges.append((id_to_token[a], id_to_token[b]))

        touched: set[Pair] = set()
        for w in where.pop(pair):
            for changed, delta in _merge_word(words[w], a, b, new):
                pair_counts[changed] += delta * counts[w]
                if delta > 0:
                    where[changed].add(w)
                    touched.add(changed)
        del pair_counts[pair]
        for changed in touched:  # only pairs with the new token can be new to the heap
            heapq.heappush(heap, (-pair_counts[changed], changed))
        progress.update(1)
    progress.close()

    vocab = {token: i for i, token in enumerate(id_to_token)}
    roles = {}
    if ENDOFTEXT in special_tokens:
        roles.update(eos=ENDOFTEXT, bos=ENDOFTEXT)
    for pad in ("<pad>", "<|pad|>"):
        if pad in special_tokens:
            roles["pad"] = pad
    extra = [t for t in special_tokens if t not in roles.values()]
    return ByteLevelBPETokenizer(vocab, merges, special_tokens=roles, extra_special_tokens=extra)
