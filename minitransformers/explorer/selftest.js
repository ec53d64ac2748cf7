/* The explorer's self-test, for automated checks in a headless browser.
 *
 * Opening page.html#test=layer1,head0[,page1][,mask] makes each view move its
 * own controls as a user would, then write what it shows into a hidden
 * <pre class="mtx-test-output">: the head view's lines, the heatmap's pixels
 * read back as weights, the panels. It finds everything through the DOM, so
 * it checks what is on screen, not the script's variables.
 */

function runSelfTest(root, { errors, report, shownAfterMs, red }) {
  const start = performance.now();
  const find = (selector) => root.querySelector(selector);
  const steps = /test=([^&]*)/.exec(window.location.hash)[1].split(",");
  for (const step of steps) {
    const [, what, number] = /^(layer|head|page|mask)(\d*)$/.exec(step) || [];
    if (what === "layer" || what === "head") {
      const control = find(`select.mtx-${what}`);
      control.value = number;
      control.dispatchEvent(new Event("change"));
    } else if (what === "page") {
      for (let p = 0; p < +number; p++) find("button.mtx-next").click();
    } else if (what === "mask") {
      find("input.mtx-mask-toggle").checked = true;
      find("input.mtx-mask-toggle").dispatchEvent(new Event("change"));
    } else {
      report(`self-test: unknown step ${step}`);
    }
  }
  const svg = find(".mtx-head-view svg");
  const lines = [...svg.querySelectorAll("line")].map((l) => [+l.dataset.q, +l.dataset.k, +l.dataset.w]);
  // Heatmap pixels back to weights: the red channel runs from red[0] (weight 0) to red[1] (weight 1).
  const canvas = find(".mtx-heatmap canvas");
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  const heatmap = [];
  for (let r = 0; r < canvas.height; r++) {
    const row = [];
    for (let k = 0; k < canvas.width; k++) row.push((red[0] - pixels[4 * (r * canvas.width + k)]) / (red[0] - red[1]));
    heatmap.push(row);
  }
  svg.querySelector('text[data-side="q"]').dispatchEvent(new Event("mouseenter"));
  const selected = find(".mtx-panel.mtx-selected");
  const result = {
    layer: +find("select.mtx-layer").value, head: +find("select.mtx-head").value,
    mask: find("input.mtx-mask-toggle").checked, range: find(".mtx-range").textContent,
    start: +svg.querySelector('text[data-side="q"]').dataset.i,  // the first query row shown
    panels: root.querySelectorAll(".mtx-panel").length,
    selected: selected ? [+selected.dataset.layer, +selected.dataset.head] : null,
    lines, heatmap, hot_lines: svg.querySelectorAll("line.mtx-hot").length,
    query_tokens: [...svg.querySelectorAll('text[data-side="q"]')].map((t) => t.textContent),
    errors, ms_to_show: shownAfterMs, ms_self_test: performance.now() - start,
  };
  const output = document.createElement("pre");
  output.className = "mtx-test-output";
  output.id = root.id + "-test";
  output.textContent = JSON.stringify(result);
  root.appendChild(output);
}
