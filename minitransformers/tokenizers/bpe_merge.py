"""Applying ranked BPE merges to one word in ``n log n``: a heap of pairs over a linked list.

The textbook loop ("find the best adjacent pair, merge it everywhere, repeat")
rescans the word after every merge, so a word of ``n`` pieces costs ``n²``.
Here each piece knows its neighbours (``left[i]``, ``right[i]``: a linked
list over positions), and every adjacent pair with a rank waits in a heap
ordered by ``(rank, position)``. Popping gives the earliest-learned pair,
leftmost first; merging it changes only the pairs it touches, so two new
candidates are pushed. A popped pair whose pieces have changed since it was
pushed is stale and skipped. This is the order Hugging Face ``tokenizers``
uses, so the ids are the same.
"""

from __future__ import annotations

import heapq


def merge_by_rank(pieces: list[str], ranks: dict[tuple[str, str], int]) -> list[str]:
    """Merge adjacent ``pieces`` by ``ranks`` (lower first) until no ranked pair is left."""
    n = len(pieces)
    if n < 2:
        return pieces
    left = list(range(-1, n - 1))  # the live piece before position i (-1: none)
    right = list(range(1, n + 1))  # the live piece after position i (n: none)
    alive = [True] * n
    heap = [(ranks[pair], i) for i, pair in enumerate(zip(pieces, pieces[1:])) if pair in ranks]
    heapq.heapify(heap)
    while heap:
        rank, i = heapq.heappop(heap)
        j = right[i] if alive[i] else n
        if j >= n or ranks.get((pieces[i], pieces[j])) != rank:
            continue  # stale: piece i was merged away, or its right neighbour changed
        pieces[i] += pieces[j]  # the merged piece keeps position i; j leaves the list
        alive[j] = False
        right[i] = right[j]
        if right[i] < n:
            left[right[i]] = i
        for a, b in ((left[i], i), (i, right[i])):  # the two pairs that now include piece i
            if a >= 0 and b < n and (pieces[a], pieces[b]) in ranks:
                heapq.heappush(heap, (ranks[(pieces[a], pieces[b])], a))
    return [piece for piece, live in zip(pieces, alive) if live]
