"""The shipped recipes: their settings, the famous-lines table and the checkpoint evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from minitransformers import load_tokenizer, shipped_path
from minitransformers.recipes.evaluation import checkpoint_kind
from minitransformers.recipes.famous_lines import (
    FAMOUS_LINES, famous_lines_table, found_counts, markdown_table,
)
from minitransformers.recipes.shipped import GPT_DROPOUT, SHARED, SHARED_MODEL, default_train_config

SHIPPED_GPT = "weights/mini-gpt-shakespeare"


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer(SHIPPED_GPT)


def test_famous_lines_hide_one_token_words_of_the_plays(tokenizer):
    from minitransformers.recipes.shakespeare_data import shakespeare_texts

    train, validation = shakespeare_texts()
    assert len([line for line in FAMOUS_LINES if not line.held_out]) >= 15
    for line in FAMOUS_LINES:
        assert len(tokenizer.encode_ordinary(" " + line.word)) == 1, line.word
        works = validation if line.held_out else train
        text = " ".join(works[line.play].split())  # the line as printed in its play, spacing aside
        assert " ".join(line.text.format(line.word).split()) in text, line.text


class _Rigged(torch.nn.Module):
    """A stand-in model whose logits favour one token at every position, to test the table's logic."""

    def __init__(self, favourite: int, vocab: int) -> None:
        super().__init__()
        self.favourite, self.vocab, self.seen = favourite, vocab, []
        self.anchor = torch.nn.Parameter(torch.zeros(()))

    @property
    def device(self):
        return self.anchor.device

    def forward(self, ids):
        self.seen.append(ids[0].tolist())
        logits = torch.zeros(*ids.shape, self.vocab)
        logits[..., self.favourite] = 1.0
        return SimpleNamespace(logits=logits)


def test_table_reads_both_sides_for_bert_and_the_left_for_gpt(tokenizer):
    line = FAMOUS_LINES[0]
    word_id = tokenizer.encode_ordinary(" " + line.word)[0]
    bert, gpt = _Rigged(word_id, tokenizer.vocab_size), _Rigged(7, tokenizer.vocab_size)
    rows = famous_lines_table(bert, gpt, tokenizer, lines=[line])
    assert rows[0]["bert_found"] and not rows[0]["gpt_found"]
    left, right = tokenizer.encode_ordinary(line.left), tokenizer.encode_ordinary(line.right)
    assert bert.seen[0] == [tokenizer.cls_token_id, *left, tokenizer.mask_token_id, *right, tokenizer.sep_token_id]
    assert bert.seen[1] == [tokenizer.cls_token_id, *left, tokenizer.mask_token_id, tokenizer.sep_token_id]
    assert gpt.seen[0] == left  # nothing from the right of the gap
    assert found_counts(rows) == {"bert": "1/1", "bert_left": "1/1", "gpt": "0/1"}
    table = markdown_table(rows)
    assert f"**{line.word}**" in table and "___" in table
    with pytest.raises(ValueError, match="at least one"):
        famous_lines_table(tokenizer=tokenizer)


def test_gpt_and_bert_share_size_steps_and_batch_shape(tmp_path):
    gpt, bert = default_train_config("gpt", tmp_path / "g", "cpu"), default_train_config("bert", tmp_path / "b", "cpu")
    differing = {k for k, v in gpt.to_dict().items() if bert.to_dict()[k] != v}
    assert differing == {"output_dir"}
    assert gpt.keep_best and gpt.eval_every > 0
    assert SHARED["block_size"] == SHARED_MODEL["max_positions"]  # trained at the full context
    # The laptop pair runs bf16 autocast and compiled on a CPU too (benchmarks/bench_pair_step.py) ...
    assert gpt.compile and gpt.autocast_dtype == "bfloat16"
    # ... with a warm-up tied to the budget: 6% of the steps, whatever their number.
    assert gpt.warmup_steps == round(0.06 * gpt.max_steps)
    assert default_train_config("gpt", tmp_path, "cpu", steps=1000).warmup_steps == 60
    assert gpt.checkpoint_every > 0  # a checkpoint every few minutes, so a killed run resumes
    char = default_train_config("char", tmp_path / "c", "cpu")
    assert not char.compile and char.autocast_dtype is None  # the char-GPT keeps its recipe: float32 eager
    with pytest.raises(ValueError, match="at least 1"):
        default_train_config("gpt", tmp_path, "cpu", steps=0)


def test_checkpoint_kind(tmp_path):
    assert checkpoint_kind(SHIPPED_GPT) == "gpt"
    assert checkpoint_kind("weights/mini-bert-shakespeare") == "bert"
    assert checkpoint_kind("weights/char-gpt-shakespeare") == "gpt-char"
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "llama"}))
    with pytest.raises(ValueError, match="BERT or GPT-2"):
        checkpoint_kind(tmp_path)


def test_recipe_resumes_from_the_previous_checkpoint_when_the_latest_is_gone(tmp_path):
    from minitransformers.recipes.shipped import _train_keeping_best
    from tests.test_training import make_config, new_trainer

    config = make_config(max_steps=8, eval_every=2, checkpoint_every=2, keep_best=True, output_dir=str(tmp_path))
    first = new_trainer(config)
    first.train(until_step=6)  # checkpoints at 4 (kept as previous) and 6
    (tmp_path / "checkpoint.pt").unlink()
    resumed = new_trainer(config, model_seed=3)
    with pytest.warns(UserWarning, match="previous checkpoint"):
        outcome = _train_keeping_best(resumed, resume=True, time_budget_s=None)
    assert resumed.step == 8 and resumed.history[0]["step"] == 1  # history came back from step 4's checkpoint
    assert outcome["best_step"] == resumed.best["step"]


@pytest.mark.parametrize("folder", ["weights/mini-gpt-shakespeare", "weights/mini-bert-shakespeare"])
def test_shipped_float16_weights_load_as_float32_and_match_transformers(folder):
    transformers = pytest.importorskip("transformers")
    from minitransformers import BertForPreTraining, GPTLMHeadModel

    ours_class, theirs_class = ((GPTLMHeadModel, transformers.GPT2LMHeadModel) if "gpt" in folder
                                else (BertForPreTraining, transformers.BertForPreTraining))
    assert json.loads((Path(folder) / "config.json").read_text())["dtype"] == "float16"
    ours = ours_class.from_pretrained(folder)
    theirs = theirs_class.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager").eval()
    assert all(p.dtype == torch.float32 for p in ours.parameters())
    ids = torch.randint(5, 8000, (2, 40), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = theirs(ids).logits if "gpt" in folder else theirs(ids).prediction_logits
        torch.testing.assert_close(ours(ids).logits, expected, atol=1e-4, rtol=1e-4)


def test_bert_masks_40_percent_without_dropout_and_is_scored_at_15(tokenizer):
    from minitransformers.recipes.shakespeare_data import masked_lm_dataset
    from minitransformers.recipes.shipped import shipped_bert_config, shipped_gpt_config

    bert, gpt = shipped_bert_config(tokenizer), shipped_gpt_config(tokenizer)
    assert bert.hidden_dropout == bert.attention_dropout == 0.0
    assert gpt.hidden_dropout == gpt.attention_dropout == GPT_DROPOUT  # the dropout the sweep measured best
    assert (bert.hidden_size, bert.n_layers, bert.max_positions) == (gpt.hidden_size, gpt.n_layers, gpt.max_positions)
    works = {"a": "To be, or not to be.\n\nThat is the question.\n\n" * 40,
             "b": "Now is the winter of our discontent.\n\nMade glorious summer.\n\n" * 40}
    for evaluation, share in ((False, 0.40), (True, 0.15)):
        data = masked_lm_dataset(tokenizer, works, 128, mask_probability=0.40, evaluation=evaluation)
        batch = data.batch(torch.arange(len(data)))
        real = (batch["attention_mask"] == 1) & (batch["input_ids"] != tokenizer.cls_token_id) \
            & (batch["input_ids"] != tokenizer.sep_token_id)
        selected = (batch["labels"] != -100).sum() / real.sum()
        assert abs(float(selected) - share) < 0.03, (evaluation, float(selected))


def test_bert_pairs_tokenize_a_paragraph_break_as_the_plays_do(tokenizer):
    """Packed paragraphs hold exactly the ids of the running text, blank lines included."""
    from minitransformers.recipes.shakespeare_data import masked_lm_dataset, paragraph_break_ids

    lone_break = tokenizer.encode_ordinary("\n\n")
    assert len(lone_break) == 1  # alone, the two newlines merge into one token ...
    newline = tokenizer.encode_ordinary("\n")
    assert paragraph_break_ids(tokenizer) == newline + newline  # ... between paragraphs they do not
    text = "\n\n".join(f"SPEAKER {n}.\nWords of speech {n}, and more words." for n in range(60))
    running = tokenizer.encode_ordinary(text)
    assert lone_break[0] not in running
    other = text.replace("SPEAKER", "LORD")
    streams = [running, tokenizer.encode_ordinary(other)]
    data = masked_lm_dataset(tokenizer, {"a": text, "b": other}, 128, mask_probability=0.0)
    batch = data.batch(torch.arange(len(data)))
    breaks = 0
    for ids, types, keep in zip(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"]):
        a = ids[1:][(types[1:] == 0) & (keep[1:] == 1)][:-1].tolist()  # between <cls> and a's <sep>
        assert any(stream[i:i + len(a)] == a for stream in streams for i in range(len(stream))), a
        breaks += sum(a[i:i + 2] == newline + newline for i in range(len(a) - 1))
    assert breaks > len(data) // 4  # many a pieces hold more than one paragraph
    assert not (batch["input_ids"] == lone_break[0]).any()


def test_paragraph_breaks_need_a_tokenizer_that_keeps_words_apart():
    from minitransformers.recipes.shakespeare_data import paragraph_break_ids

    class Merging:  # a tokenizer whose ids of "a\n\nA" do not start with those of "a"
        def encode_ordinary(self, text):
            return [len(text)]

    with pytest.raises(ValueError, match="blank line"):
        paragraph_break_ids(Merging())


def test_the_card_says_where_and_how_long_it_trained():
    from minitransformers.recipes.model_card import _where_trained

    cpu = {"hardware": "cpu (AMD EPYC, 2 logical cores, 2 threads)", "wall_time_s": 3012.0}
    assert _where_trained(cpu) == "Trained on a CPU (AMD EPYC, 2 logical cores, 2 threads) in 50 minutes of wall clock."
    gpu = {"hardware": "cuda (NVIDIA H200)", "wall_time_s": 162.3}
    assert _where_trained(gpu) == "Trained on cuda (NVIDIA H200) in 3 minutes of wall clock."
    resumed = {**cpu, "resumed_at_steps": [2250]}
    assert _where_trained(resumed).endswith("resumed from its checkpoint at step 2,250; the minutes add the "
                                            "parts up to that checkpoint.")


def test_the_targets_are_the_laptop_pairs():
    from minitransformers.recipes.evaluation import BOTH_SIDES_MARGIN, target_report

    bert = target_report("bert", {"masked_accuracy": 0.30, "nsp_accuracy": 0.7499,
                                  "famous_lines": {"bert": "7/20"}})
    assert [met for _, _, met in bert] == [True, False, True]
    gpt = target_report("gpt", {"loss": 4.61, "famous_lines": {"gpt": "5/20"}})
    assert [met for _, _, met in gpt] == [False, True]
    assert BOTH_SIDES_MARGIN == 0.05


def test_bert_with_the_right_side_removed_reads_each_hidden_token_from_its_left_only():
    from minitransformers import BertForPreTraining, GPTLMHeadModel, load_tokenizer
    from minitransformers.data import mask_tokens
    from minitransformers.recipes.evaluation import both_sides_metrics

    bert = BertForPreTraining.from_pretrained(shipped_path("mini-bert-shakespeare"))
    gpt = GPTLMHeadModel.from_pretrained(shipped_path("mini-gpt-shakespeare"))
    tokenizer = load_tokenizer(shipped_path("mini-bert-shakespeare"))
    text = {"held out": "Good night, sweet prince,\nAnd flights of angels sing thee to thy rest!\n" * 24}
    numbers = both_sides_metrics(bert, gpt, tokenizer, text, right_side_removed=True)
    # The same hidden tokens, one unpadded forward each: the left side, the gap, <sep> and nothing after.
    length = min(bert.config.max_positions - 2, gpt.config.max_positions)
    ids = tokenizer.encode_ordinary(text["held out"])
    windows = torch.tensor([ids[start:start + length] for start in range(0, len(ids) - length + 1, length)])
    hidden, labels = mask_tokens(windows, mask_token_id=tokenizer.mask_token_id, vocab_size=tokenizer.vocab_size,
                                 mask_probability=0.15, generator=torch.Generator().manual_seed(1),
                                 replace_shares=(1.0, 0.0, 0.0))
    correct = total = 0
    with torch.no_grad():
        for row, position in (labels[:, 1:] != -100).nonzero().tolist():
            position += 1
            prefix = [tokenizer.cls_token_id, *hidden[row, :position + 1].tolist(), tokenizer.sep_token_id]
            guess = bert(torch.tensor([prefix])).logits[0, position + 1].argmax()
            correct += int(guess == labels[row, position])
            total += 1
    assert total == numbers["tokens"] > 20
    assert numbers["bert_left_only"] == correct / total
    assert numbers["bert_left_only"] != numbers["bert_both_sides"]  # the right side changes the guesses
