"""Tokenizers written by hand: WordPiece (BERT), byte-level BPE (GPT-2) with a trainer, characters.

Read in this order: ``base.py`` (the shared interface) -> ``bert_pretokenizer.py``
-> ``wordpiece.py`` -> ``byte_level.py`` -> ``byte_level_bpe.py`` ->
``bpe_trainer.py`` -> ``char.py`` -> ``show.py`` (and ``readable.py``: tokens shown without blanks).
"""

from minitransformers.tokenizers.auto import load_tokenizer
from minitransformers.tokenizers.base import Tokenizer
from minitransformers.tokenizers.batching import BatchEncoding
from minitransformers.tokenizers.bert_pretokenizer import BertPreTokenizer
from minitransformers.tokenizers.bpe_trainer import train_bpe
from minitransformers.tokenizers.byte_level import GPT2_PATTERN, bytes_to_unicode
from minitransformers.tokenizers.byte_level_bpe import ENDOFTEXT, ByteLevelBPETokenizer
from minitransformers.tokenizers.char import CharTokenizer
from minitransformers.tokenizers.readable import readable_token
from minitransformers.tokenizers.show import encode_and_show
from minitransformers.tokenizers.wordpiece import WordPieceTokenizer

__all__ = [
    "ENDOFTEXT",
    "GPT2_PATTERN",
    "BatchEncoding",
    "BertPreTokenizer",
    "ByteLevelBPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "WordPieceTokenizer",
    "bytes_to_unicode",
    "encode_and_show",
    "load_tokenizer",
    "readable_token",
    "train_bpe",
]
