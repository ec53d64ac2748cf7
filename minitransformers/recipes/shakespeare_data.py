"""The Shakespeare data behind the shipped checkpoints: one tokenizer, two objectives.

mini-GPT and mini-BERT are trained on the same plays, with the same byte-level
BPE tokenizer, for the same number of steps of the same batch shape, so that
comparing them compares the attention mask and the objective, nothing else.
"""

from __future__ import annotations

import re

import torch

from ..data import CausalLMDataset, MaskedLMDataset, concatenate_ids, train_validation_split
from ..tokenizers import ByteLevelBPETokenizer, CharTokenizer
from ..tokenizers.bpe_trainer import train_bpe

ENDOFTEXT = "<|endoftext|>"
# Roles -> tokens. GPT needs only the end-of-text token; BERT needs the other four.
SPECIAL_TOKENS = {"eos": ENDOFTEXT, "bos": ENDOFTEXT, "pad": "<pad>", "cls": "<cls>",
                  "sep": "<sep>", "mask": "<mask>"}


def shakespeare_texts() -> tuple[dict[str, str], dict[str, str]]:
    """``(train, validation)`` works; validation plays are never seen in training."""
    return train_validation_split()


def train_shakespeare_tokenizer(train: dict[str, str], vocab_size: int = 8192) -> ByteLevelBPETokenizer:
    """Learn the shared byte-level BPE vocabulary on the training plays only."""
    specials = list(dict.fromkeys(SPECIAL_TOKENS.values()))
    learned = train_bpe(train.values(), vocab_size=vocab_size, special_tokens=specials)
    return ByteLevelBPETokenizer(learned.vocab, learned.merges, special_tokens=SPECIAL_TOKENS)


def paragraphs(text: str) -> list[str]:
    """Speeches and stage directions: the text's blank-line separated paragraphs."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def paragraph_break_ids(tokenizer) -> list[int]:
    """The ids a blank line gets *between two paragraphs of running text*.

    Not ``encode_ordinary("\\n\\n")``: alone, a byte-level BPE merges the two
    newlines into one token, ``\\n\\n``, but in running text its pre-tokenizer
    keeps the newline before a word apart, so the plays (and GPT, and anything a
    user types) have ``\\n`` ``\\n`` there. Paragraphs packed with the lone form
    would teach mini-BERT a break that real text never shows it.
    """
    before, after = tokenizer.encode_ordinary("a"), tokenizer.encode_ordinary("A")
    ids = tokenizer.encode_ordinary("a\n\nA")
    if ids[:len(before)] != before or ids[len(ids) - len(after):] != after:
        raise ValueError(f"{type(tokenizer).__name__} does not keep the words around a blank line apart; "
                         "its paragraph break cannot be cut out of running text")
    return ids[len(before):len(ids) - len(after)]


def bpe_word_continuation(tokenizer):
    """For whole-word masking: a function ``ids (b t) -> (b t) bool``, True where a token continues
    the word of the token before it.

    A byte-level BPE token that starts with a letter or an apostrophe
    (``essengers``, ``'d``; not `` king``) and follows a token that ends with
    one (``M``, ``unforc``) is the rest of a word. A token
    after a newline or a space starts a word even without a space of its own.
    """
    texts = [tokenizer.decode([i]) for i in range(tokenizer.vocab_size)]
    starts_with_letter = torch.tensor([text[:1].isalpha() or text[:1] == "'" for text in texts])
    # a lone space is the start of the word after it (`` `` + ``accord``)
    ends_with_letter = torch.tensor([text[-1:].isalpha() or text[-1:] == "'" or text == " " for text in texts])

    def continues_word(ids: torch.Tensor) -> torch.Tensor:
        previous_ends_word = torch.zeros_like(ids, dtype=torch.bool)
        previous_ends_word[..., 1:] = ends_with_letter[ids[..., :-1]]
        return starts_with_letter[ids] & previous_ends_word

    return continues_word


def causal_lm_dataset(tokenizer, works: dict[str, str], block_size: int, stride: int | None = None) -> CausalLMDataset:
    """All works as one token stream (``<|endoftext|>`` between works), cut into blocks.

    ``stride=1`` makes every offset an example: shuffled, they are random windows, as in nanoGPT.
    """
    documents = [tokenizer.encode_ordinary(text) for text in works.values()]
    return CausalLMDataset(concatenate_ids(documents, separator_id=tokenizer.eos_token_id), block_size, stride)


def masked_lm_dataset(tokenizer, works: dict[str, str], block_size: int, seed: int = 0,
                      evaluation: bool = False, mask_probability: float = 0.15) -> MaskedLMDataset:
    """``<cls> A <sep> B <sep>`` examples, ``mask_probability`` of the tokens masked, with NSP labels.

    ``A`` is consecutive paragraphs of one work filling a random share of up to half the
    block and ``B`` the paragraphs that follow (label 0) or paragraphs of another work
    (label 1); paragraphs are joined by a blank line, as in the text.
    ``evaluation=True`` replaces every selected token by ``<mask>`` (no 80/10/10), so
    the accuracy says how well the model fills a gap; it always selects 15%, whatever
    ``mask_probability`` training used, so scores stay comparable.
    """
    segments, documents = [], []
    for number, text in enumerate(works.values()):
        for paragraph in paragraphs(text):
            segments.append(tokenizer.encode_ordinary(paragraph))
            documents.append(number)
    return MaskedLMDataset(
        segments, block_size=block_size, cls_token_id=tokenizer.cls_token_id,
        sep_token_id=tokenizer.sep_token_id, pad_token_id=tokenizer.pad_token_id,
        mask_token_id=tokenizer.mask_token_id, vocab_size=tokenizer.vocab_size,
        next_sentence=True, seed=seed, documents=documents, fill=True,
        mask_probability=0.15 if evaluation else mask_probability,
        joiner=paragraph_break_ids(tokenizer),  # paragraphs stay separated by a blank line, as in the text
        replace_shares=(1.0, 0.0, 0.0) if evaluation else (0.8, 0.1, 0.1),
    )


def char_tokenizer(train: dict[str, str]) -> CharTokenizer:
    """Characters of the training plays, plus ``<unk>`` for any the validation plays add."""
    return CharTokenizer.from_text("".join(train.values()), special_tokens={"unk": "<unk>"})


def char_lm_dataset(tokenizer: CharTokenizer, works: dict[str, str], block_size: int,
                    stride: int | None = None) -> CausalLMDataset:
    """The works as one character stream, cut into blocks (``stride=1``: every offset)."""
    return CausalLMDataset(tokenizer.encode_ordinary("\n\n".join(works.values())), block_size, stride)
