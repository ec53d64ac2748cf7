"""The attention explorer in a real browser: headless Debian ``chromium`` opens the saved page.

The page has a self-test hook: ``page.html#test=layer1,head1,page1`` makes
its script move the controls as a user would, then write what it shows (the
head view's lines, the heatmap's pixels read back as weights, the number of
panels) into a ``<pre>``, which ``--dump-dom`` prints. Console errors are
read from chromium's log. No extra packages: only ``subprocess``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from minitransformers.config import BertConfig, GPTConfig
from minitransformers.explorer import explore
from minitransformers.models import BertForPreTraining, GPTLMHeadModel
from minitransformers.tokenizers import WordPieceTokenizer

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="the chromium binary was not found; install it (apt-get install -y chromium) to run the browser tests",
)

# The heatmap maps weight 0..1 to red 255..8, so a pixel reads back within half a step (1/494).
PIXEL_TOLERANCE = 1 / 247


def chromium(page: Path, profile: Path, *extra: str, fragment: str = "") -> subprocess.CompletedProcess:
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0",
    ]
    url = page.resolve().as_uri() + fragment
    env = {**os.environ, "HOME": str(profile)}  # chromium writes caches under $HOME
    return subprocess.run(
        [CHROMIUM, *flags, *extra, url], check=False, capture_output=True, text=True, timeout=60, env=env
    )


def console_messages(log: str) -> list[str]:
    """Lines chromium logged from the page's console (errors, and CSP reports of blocked loads)."""
    return [line for line in log.splitlines() if ":CONSOLE" in line]


def self_test(page: Path, profile: Path, steps: str) -> list[dict]:
    """Run the page's self-test sequence; return one result per view on the page."""
    result = chromium(page, profile, "--dump-dom", fragment=f"#test={steps}")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    outputs = re.findall(r'<pre class="mtx-test-output" id="[\w-]+">(.*?)</pre>', result.stdout, re.DOTALL)
    assert outputs, "the page's script did not write its self-test output:\n" + result.stdout[-2000:]
    assert '<div class="mtx-fallback">' not in result.stdout, "the script did not remove the fallback note"
    reports = [json.loads(text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")) for text in outputs]
    for report in reports:
        assert report["errors"] == []
    return reports


@pytest.fixture(scope="module")
def gpt_page(tmp_path_factory) -> tuple[Path, dict]:
    torch.manual_seed(0)
    config = GPTConfig.preset("tiny", n_layers=3, n_heads=2, initializer_range=0.3)
    model = GPTLMHeadModel(config).eval()
    view = explore(model, list(range(10, 50)), window=16)  # 40 tokens: three windows of queries
    return view.save_html(tmp_path_factory.mktemp("gpt") / "gpt.html"), view.data


def check_shown_head(report: dict, data: dict, layer: int, head: int, start: int) -> None:
    """The head view's lines and the heatmap's pixels are this head's weights for this window."""
    weights = torch.tensor(data["attentions"][layer][head], dtype=torch.float64)  # (t s)
    end = min(start + data["window"], len(data["tokens"]))
    lines = {(q, k): w for q, k, w in report["lines"]}
    expected = {(q, k): weights[q, k].item() for q in range(start, end) for k in range(start, end)}
    assert lines == {key: w for key, w in expected.items() if w > 0}
    heatmap = torch.tensor(report["heatmap"], dtype=torch.float64)  # window rows x every key
    assert heatmap.shape == (end - start, len(data["tokens"]))
    assert (heatmap - weights[start:end]).abs().max() <= PIXEL_TOLERANCE


def test_picking_layer_and_head_shows_that_heads_weights(gpt_page, tmp_path):
    page, data = gpt_page
    for steps, layer, head, start in [("layer0,head0", 0, 0, 0), ("layer1,head1,page1", 1, 1, 16),
                                      ("layer2,head0,page2", 2, 0, 32)]:
        (report,) = self_test(page, tmp_path, steps)
        assert report["panels"] == data["n_layers"] * data["n_heads"] == 6
        assert (report["layer"], report["head"], report["start"]) == (layer, head, start)
        assert report["selected"] == [layer, head]
        check_shown_head(report, data, layer, head, start)
        assert report["query_tokens"] == data["tokens"][start:start + 16]
        # Hovering the first query token highlights exactly its lines.
        assert report["hot_lines"] == sum(1 for q, _, _ in report["lines"] if q == start)
    # The heads really differ, so the check above could tell a wrong head apart.
    a, b = (torch.tensor(data["attentions"][layer][h]) for layer, h in [(0, 0), (1, 1)])
    assert (a - b).abs().max() > 10 * PIXEL_TOLERANCE


def test_two_views_on_one_page_work_independently(tmp_path):
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "a", "dog", "ran"]
    tokenizer = WordPieceTokenizer({token: i for i, token in enumerate(vocab)})
    torch.manual_seed(0)
    bert = BertForPreTraining(BertConfig.preset("tiny", vocab_size=16, n_layers=2, n_heads=2)).eval()
    bert_view = explore(bert, "the cat sat", tokenizer=tokenizer, text_pair="a dog ran")
    gpt_view = explore(GPTLMHeadModel(GPTConfig.preset("tiny", n_layers=3, n_heads=2)).eval(), [1, 2, 3])
    # The second view is inserted as JupyterLab does it: innerHTML into a detached node, each
    # <script> re-created so that it runs, and the node attached to the document afterwards.
    fragment = json.dumps(gpt_view._repr_html_()).replace("</", "<\\/")
    notebook_like = f"""<script>
      const host = document.createElement("div");
      host.innerHTML = {fragment};
      for (const old of host.querySelectorAll("script")) {{
        const fresh = document.createElement("script");
        for (const attribute of old.attributes) fresh.setAttribute(attribute.name, attribute.value);
        fresh.textContent = old.textContent;
        old.replaceWith(fresh);
      }}
      setTimeout(() => document.body.appendChild(host), 0);
    </script>"""
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><meta charset='utf-8'><body>{bert_view._repr_html_()}"
                    f"{notebook_like}</body>", encoding="utf-8")
    bert_report, gpt_report = self_test(page, tmp_path / "profile", "layer1,head1,mask")
    assert bert_report["panels"] == 4 and gpt_report["panels"] == 6
    assert bert_report["query_tokens"] == ["[CLS]", "the", "cat", "sat", "[SEP]", "a", "dog", "ran", "[SEP]"]
    # Mask mode: BERT's bidirectional mask joins every pair, GPT's causal mask only k <= q.
    assert len(bert_report["lines"]) == 9 * 9 and all(w == 1 for _, _, w in bert_report["lines"])
    assert sorted((q, k) for q, k, _ in gpt_report["lines"]) == [(q, k) for q in range(3) for k in range(q + 1)]


def test_page_renders_to_a_screenshot(gpt_page, tmp_path):
    page, _ = gpt_page
    shot = tmp_path / "explorer.png"
    result = chromium(page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,900")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
