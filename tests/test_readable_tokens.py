"""A newline or a lone space is shown as a symbol, never as a blank: in fill_mask and the famous lines."""

from __future__ import annotations

import torch

from minitransformers import BertConfig, BertForMaskedLM, fill_mask, load_tokenizer
from minitransformers.recipes.famous_lines import FAMOUS_LINES, famous_lines_table, markdown_table
from minitransformers.tokenizers import readable_token

SHIPPED_BERT = "weights/mini-bert-shakespeare"


def test_white_space_tokens_get_symbols_and_words_lose_their_space():
    assert readable_token("\n") == "⏎"
    assert readable_token("\n\n") == "⏎⏎"
    assert readable_token(" ") == "␣"
    assert readable_token("\t") == "⇥"
    assert readable_token(" king") == "king"
    assert readable_token(",") == ","


def _bert_that_always_says(token_id: int, vocab_size: int) -> BertForMaskedLM:
    model = BertForMaskedLM(BertConfig.preset("tiny", vocab_size=vocab_size)).eval()
    with torch.no_grad():
        model.mlm_head.decoder.bias.zero_()
        model.mlm_head.decoder.bias[token_id] = 100.0
    return model


def test_fill_mask_and_the_famous_lines_show_a_newline_guess():
    tokenizer = load_tokenizer(SHIPPED_BERT)
    newline = tokenizer.encode_ordinary("\n")[0]
    bert = _bert_that_always_says(newline, tokenizer.vocab_size)
    guesses = fill_mask(bert, tokenizer, "To be, or not to be: that is the [MASK].", top_k=3)[0]
    assert guesses[0]["token"] == "⏎"
    assert all(guess["token"].strip() for guess in guesses)  # no blank
    rows = famous_lines_table(bert=bert, tokenizer=tokenizer, lines=FAMOUS_LINES[:1], top_k=3)
    assert rows[0]["bert_top"][0] == "⏎" and rows[0]["bert_left_top"][0] == "⏎"
    assert "⏎" in markdown_table(rows)
