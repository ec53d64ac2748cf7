"""Graded hints for every exercise: a first nudge in words, then a closer one. Neither is the answer.

``exercises.hint("causal_mask")`` shows the nudge, ``exercises.hint("causal_mask", level=2)``
the closer hint; a failed check quotes the nudge and offers the second. The student copies'
stubs quote the nudge too. A teacher changes a hint here, in one place: the notebooks hold
no hint of their own.

Rules the tests hold these to: a first hint has no code at all (no backticks, no ``torch.``,
no ``=``); a second hint may name a function or an argument in backticks, but no fragment
longer than 30 characters, and no line of any solution.
"""

from __future__ import annotations

HINTS: dict[str, tuple[str, str]] = {
    "causal_mask": (
        "Row i is the query and column j the key. Which keys may token i look at: the ones before it, "
        "the ones after it, itself? Write that rule as a comparison of two position numbers.",
        "A column of query positions and a row of key positions, both from `torch.arange(t)`, "
        "broadcast to a (t t) table when you compare them. (Or start from a square of ones and keep "
        "one triangle: `torch.tril`.) Check which side of the diagonal you keep.",
    ),
    "padding_mask": (
        "Two steps: turn the ones and zeros into True and False, then give the result a shape that "
        "lines up with the scores (b h t s). Is padding hidden as a query or as a key?",
        "A comparison with 1 (or `.bool()`) gives True and False. Then add two size-1 axes for the "
        "heads and the queries, so that the mask broadcasts over them: einops' `rearrange` does it "
        "in one pattern.",
    ),
    "attention_scores": (
        "Every query meets every key: the score of query i and key j is the dot product of their "
        "vectors, then scaled. Which size is d, and what exactly do you divide by?",
        "`einsum` with a pattern naming the axes of q, k and the output, or `@` with the last two "
        "axes of k swapped, gives all the dot products at once, (b h t s). The scale uses the head "
        "size d, the last axis of q: not the number of tokens.",
    ),
    "masking": (
        "A hidden key must end with a weight of exactly 0 while each row still sums to 1. Which "
        "score has a softmax weight of 0, and must you set it before or after the softmax? Then "
        "think of a query that may see no key at all.",
        "Fill the hidden scores (where the mask is False) with `torch.finfo(scores.dtype).min`, then "
        "take the softmax over the keys, `dim=-1`. Rows of queries that see no key must become zeros: "
        "`mask.any(dim=-1)` tells you which rows.",
    ),
    "attention": (
        "Chain the steps you already know: scores, scale, mask, softmax over the keys, then a "
        "weighted sum of the values. Return the output and the weights.",
        "Scale by the square root of the head size before masking; fill hidden scores with the most "
        "negative float; softmax over `dim=-1`; zero the rows that see no key; then the weights "
        "(b h t s) times v (b h s d) give (b h t d).",
    ),
    "attention_head": (
        "First turn every token vector into a query, a key and a value with the three matrices. "
        "After that it is the attention you already know, for one head, with the mask you are given.",
        "`x @ w_query` is (b t d), likewise the keys and values. Divide the (b t t) scores by the "
        "square root of the head size d, `w_query.shape[1]` (not the width c, not the number of "
        "tokens t). Hide the False cells of the mask before the softmax over the keys.",
    ),
    "split_heads": (
        "Each head owns one contiguous block of d numbers of every token vector. Cut the last axis "
        "into heads and blocks, then move the heads axis in front of the tokens axis.",
        "In `rearrange`, write the last axis of the input as the group `(h d)` and put h before t "
        "in the output. With `view` or `reshape`, remember that a reshape never moves data: you "
        "still need a transpose.",
    ),
    "merge_heads": (
        "The inverse of splitting: bring the tokens axis back in front of the heads, then glue each "
        "token's blocks of d numbers together, head 0 first.",
        "In `rearrange`, write the output's last axis as the group `(h d)`. With plain torch, swap "
        "the heads and tokens axes before `reshape`: a reshape never moves data.",
    ),
    "encoder_block": (
        "BERT is post-LN: a sub-layer's output is added to its input (the residual), and that sum is "
        "normalised. Do it once for attention, then once for the feed-forward.",
        "Two lines, one per sub-layer. In each, the residual sum sits inside the norm: the sub-layer "
        "output plus its own input, then the norm that belongs to that sub-layer. Only the "
        "attention takes the mask.",
    ),
    "sinusoidal_positions": (
        "Build a table of angles, one per position and pair: the position times the pair's speed. "
        "Each pair then holds the sine and the cosine of its angle, side by side.",
        "`torch.arange(t)` as a column times the c/2 speeds as a row broadcasts to the (t, c/2) "
        "angles. Stack sin and cos on a new last axis and merge it with the pair axis, pair first "
        "(einops: `(f two)`), so that the sines land on the even columns.",
    ),
    "mlm_masking": (
        "Each selected token meets one of three fates, decided by its number in fate: the mask "
        "token most of the time, a random token sometimes, unchanged otherwise. Labels keep the "
        "original id of every selected token and ignore the rest.",
        "Build two bool tensors: selected with fate below 0.8, and selected with fate from 0.8 up to "
        "(not including) 0.9. `torch.where` picks between two tensors position by position; nest "
        "two of them. The labels need one more `torch.where`, with -100 where nothing is predicted.",
    ),
    "sampling_step": (
        "Three steps, in this order: make the logits sharper or flatter with the temperature, keep "
        "only the top_k tokens of each row, then turn what is left into probabilities summing to 1.",
        "Divide, do not multiply, by the temperature. `topk` gives each row's k-th largest value; "
        "logits below it get `float('-inf')`, so that the softmax gives them exactly 0 and "
        "renormalises the rest.",
    ),
    "kv_cache_step": (
        "The cache grows by one token: put the new key and value at the end of the sequence. Then "
        "the new query attends over all the keys, its own included.",
        "`torch.cat` along the sequence axis s (dim 2) appends; the new token comes last. No mask: "
        "the newest token may see every earlier one. The scores are scaled by the square root of d "
        "as usual.",
    ),
    "mean_pooling": (
        "Average over the real tokens only: add up the vectors of a sentence's real tokens and "
        "divide by how many there are.",
        "Turn attention_mask into float weights with a size-1 axis at the end, (b t 1), so that a "
        "product zeros the padding; sum over the tokens axis and divide by the sum of the weights.",
    ),
    "last_token_pooling": (
        "With padding on the right, a sentence's last real token sits at its number of real tokens "
        "minus one. Pick that token's vector for each sentence.",
        "`attention_mask.sum(1)` counts the real tokens of each sentence. Index hidden_states with "
        "two index tensors at once: one for the sentences (`torch.arange(b)`), one for the positions.",
    ),
    # The capstone (notebook 09): the grader names the first stage that differs.
    "your_gpt": (
        "The grader compares your stages in order and names the first that differs: everything before it "
        "matched, so look inside that one. Print the names and shapes of the weights to find the tensors each "
        "stage needs, and remember that a linear layer stores its weight with the output size first.",
        "A linear layer computes `x @ weight.T + bias`. The qkv matrix holds queries, keys and values one after "
        "the other along its outputs (`chunk(3, dim=-1)`); the blocks are pre-LN, and the head reuses "
        "`gpt.token_embeddings.weight`.",
    ),
    "your_gpt_generate": (
        "Each new token is the one your model finds most likely after the whole text so far; add it to the "
        "text and run the model again, as many times as asked.",
        "Take the logits of the last position only (`logits[:, -1]`), their `argmax`, and `torch.cat` the "
        "new id to the ids along the time axis.",
    ),
    "your_bert": (
        "Four things differ from your GPT: the embeddings add a segment vector and are normalised, attention "
        "sees every token, each block normalises after adding, and the activation is the exact GELU. The "
        "grader names the first stage that differs.",
        "Post-LN: `norm(x + attention(x))`, then the same with the feed-forward. Three matrices (`query`, "
        "`key`, `value`); the exact GELU is `F.gelu(x)`; segment 0 is the first row of the segment embeddings.",
    ),
    "logit_lens_layer": (
        "Ask what the model itself does with the stream after its last layer, before any score comes "
        "out. A middle layer's stream goes through exactly the same steps: which two, in which order?",
        "First the model's own final norm, then a product with the tied embedding matrix that gives one "
        "score per vocabulary entry (`einsum` over the width axis). Return scores, not probabilities.",
    ),
    "induction_score": (
        "In the second copy every query's token appeared once before, one period earlier. An induction "
        "head looks at the token that came right after that earlier copy. Which key is that, and which "
        "queries can do it at all?",
        "For a query in the second half, the key sits one place after the query's earlier copy. Pick "
        "those weights for every head with index tensors (`torch.arange` of the queries), then "
        "average over the batch and the queries.",
    ),
    "plateau_baselines": (
        "Which tokens can the model ever be asked for, and where is it scored? Set the others aside in "
        "the counts and in the positions alike. The training loss uses the natural log: so must the line.",
        "Zero the counts of the special ids on a copy (`counts.clone()`), turn the counts into frequencies, "
        "and find the most frequent id (`argmax`). Take the scored tokens with `tokens[selected]`, then "
        "average their hits on it, and their `-log` frequency.",
    ),
    # From GPT-2 to Llama (notebook 7b).
    "rms_norm": (
        "Take each token vector on its own: square its numbers, average them over the width, add the small "
        "eps, take the square root. Divide the vector by that size, then scale each channel by its weight. "
        "Nothing is subtracted.",
        "A mean over `dim=-1` with `keepdim=True` keeps a size-1 axis, so the division broadcasts over the "
        "width. The eps goes inside `torch.sqrt` (or use `torch.rsqrt` and multiply).",
    ),
    "rotary": (
        "Token i of these new tokens sits at position start plus i. Read each head's numbers as neighbouring "
        "pairs; pair f turns by the position times its speed, and the speeds fall from 1 for the first pair "
        "towards one over base for the last. Turn the queries and the keys alike.",
        "The speeds are the base raised to minus `torch.arange(0, d, 2) / d`. With einops, split the last "
        "axis as `(f two)` to get the pairs; turn them; stack the two results back in that layout.",
    ),
}
