/* The attention explorer's script: plain JavaScript, no libraries, no network.
 *
 * The Python side (explorer.py) wraps this file in a function and calls
 * startExplorer(root) with the view's own root element. Nothing here is
 * global, so several views in one notebook stay independent.
 *
 * From the embedded data (see data.py) it draws, for the selected layer/head:
 *   - a heatmap: a window of query rows (prev/next) x every key;
 *   - a head view: query tokens left, key tokens right, one line per pair
 *     whose opacity is the attention weight (hover a token to highlight it);
 *   - one small panel per layer and head; click a panel to select it.
 * The "mask" toggle shows the mask the model applied instead of the weights.
 * selftest.js (inlined after this file) lets a headless browser check the page.
 */

function startExplorer(root) {
  const startTime = performance.now();
  const data = JSON.parse(root.querySelector("script.mtx-data").textContent);
  for (const note of root.querySelectorAll(".mtx-fallback")) note.remove();  // we are running
  const T = data.tokens.length;
  const W = Math.min(data.window, T);
  const state = { layer: 0, head: 0, start: 0, showMask: false };
  const errors = [];

  // White (weight 0) to dark blue (weight 1); the self-test reads weights back from the red channel.
  const LOW = [255, 255, 255];
  const HIGH = [8, 48, 107];
  const MAY_ATTEND = [106, 132, 171];
  const HIDDEN = [225, 225, 225];

  // ---- small helpers
  function make(tag, attrs, parent, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }
  function report(error) {
    errors.push(String(error && error.stack ? error.stack : error));
    errorBox.textContent = "Explorer error: " + errors.join("\n");
    console.error(error);
  }
  function safely(fn) {
    return function (...args) {
      try { return fn.apply(this, args); } catch (error) { report(error); }
    };
  }
  const shortToken = (i) => {
    // Make whitespace visible: a space token would otherwise be an empty label.
    const token = data.tokens[i].replace(/ /g, "\u2423").replace(/\n/g, "\u21b5").replace(/\t/g, "\u21e5");
    return token.length > 16 ? token.slice(0, 15) + "\u2026" : token;
  };
  const windowEnd = () => Math.min(state.start + W, T);
  const maskRow = (layer, q) => data.masks[data.mask_of_layer[layer]][q];
  // What the views show for (query q, key k): the weight, or 1/0 for "may attend" in mask mode.
  function shown(layer, head, q, k) {
    if (state.showMask) return maskRow(layer, q)[k] === "1" ? 1 : 0;
    return data.attentions[layer][head][q][k];
  }

  // ---- the page's parts
  const body = make("div", { class: "mtx-body" }, root);
  const errorBox = make("pre", { class: "mtx-errors" }, body);
  const info = make("div", { class: "mtx-note" }, body);
  const segmented = data.segments && data.segments.some((s) => s === 1);
  const layerCount = data.n_layers === data.model_layers ? `${data.n_layers} layers`
    : `${data.n_layers} of ${data.model_layers} layers`;
  info.textContent = `${data.model}: ${layerCount} x ${data.n_heads} heads, ` +
    `${T} tokens, ${data.mask_kind} mask.` +
    (data.truncated_from ? ` Input cut from ${data.truncated_from} tokens (max_tokens).` : "");
  if (segmented) {
    const legend = make("div", { class: "mtx-legend" }, body);
    make("span", { class: "mtx-seg-a-bg" }, legend, "segment A");
    make("span", { class: "mtx-seg-b-bg" }, legend, "segment B");
  }

  const controls = make("div", { class: "mtx-controls" }, body);
  const layerSelect = make("select", { class: "mtx-layer" }, make("label", {}, controls, "layer "));
  const headSelect = make("select", { class: "mtx-head" }, make("label", {}, controls, "head "));
  for (let l = 0; l < data.n_layers; l++) make("option", { value: l }, layerSelect, String(data.layers[l]));
  for (let h = 0; h < data.n_heads; h++) make("option", { value: h }, headSelect, String(h));
  const prevButton = make("button", { class: "mtx-prev", type: "button" }, controls, "\u25c0 prev");
  const rangeLabel = make("span", { class: "mtx-range" }, controls);
  const nextButton = make("button", { class: "mtx-next", type: "button" }, controls, "next \u25b6");
  const maskLabel = make("label", {}, controls);
  const maskToggle = make("input", { type: "checkbox", class: "mtx-mask-toggle" }, maskLabel);
  maskLabel.append(" show the mask, not the weights");

  const main = make("div", { class: "mtx-main" }, body);
  const heatBox = make("div", { class: "mtx-heatmap" }, main);
  const readout = make("div", { class: "mtx-readout" }, heatBox, "hover the heatmap or a token");
  // A 2 x 2 grid keeps the labels aligned with the canvas: [ . | key labels ] [ query labels | canvas ]
  const heatGrid = make("div", { class: "mtx-heat-grid" }, heatBox);
  make("div", {}, heatGrid);
  const columnLabels = make("div", { class: "mtx-column-labels" }, heatGrid);
  const rowLabels = make("div", { class: "mtx-row-labels" }, heatGrid);
  const heatCanvas = make("canvas", {}, heatGrid);
  const heatNote = make("div", { class: "mtx-note" }, heatBox);
  const headBox = make("div", { class: "mtx-head-view" }, main);
  headBox.innerHTML = "<svg></svg>";  // parsed as SVG, so children can use its namespace
  const svg = headBox.firstChild;
  make("div", { class: "mtx-note" }, headBox,
    "Lines join queries (left) to keys (right) in the same window. Hover a token.");
  make("div", { class: "mtx-grid-title" }, body, "Every layer and head (click one to select it)");
  const grid = make("div", { class: "mtx-grid" }, body);

  // ---- drawing
  function paint(canvas, layer, head) {
    const rows = windowEnd() - state.start;
    canvas.width = T;
    canvas.height = rows;
    const context = canvas.getContext("2d");
    const image = context.createImageData(T, rows);
    const pixels = image.data;  // RGBA bytes, written in place: no allocation per cell
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < T; k++) {
        const value = shown(layer, head, state.start + r, k);
        const at = 4 * (r * T + k);
        for (let c = 0; c < 3; c++) {
          if (state.showMask) pixels[at + c] = value ? MAY_ATTEND[c] : HIDDEN[c];
          else pixels[at + c] = LOW[c] + (HIGH[c] - LOW[c]) * value;  // rounds on store
        }
        pixels[at + 3] = 255;
      }
    }
    context.putImageData(image, 0, 0);
  }

  // Cell size on screen: wide enough to see, the whole row within ~480 pixels.
  const cellWidth = Math.max(2, Math.min(20, Math.floor(480 / T)));
  const cellHeight = Math.max(12, Math.min(20, cellWidth));

  function drawHeatmap() {
    paint(heatCanvas, state.layer, state.head);
    heatCanvas.style.width = T * cellWidth + "px";
    heatCanvas.style.height = heatCanvas.height * cellHeight + "px";
    heatNote.textContent = "Rows: the query tokens in the window. Columns: every key token. " +
      (state.showMask ? "Blue: may attend; grey: hidden by the mask." : "Darker = more attention.");
    const segmentClass = (i) => (segmented ? (data.segments[i] ? "mtx-seg-b-bg" : "mtx-seg-a-bg") : "");
    rowLabels.textContent = "";
    for (let q = state.start; q < windowEnd(); q++) {
      const style = `height:${cellHeight}px;line-height:${cellHeight}px`;
      make("div", { style, title: data.tokens[q], class: segmentClass(q) }, rowLabels, shortToken(q));
    }
    columnLabels.textContent = "";
    if (cellWidth < 12) return;  // too narrow to read: hover the heatmap instead
    for (let k = 0; k < T; k++) {
      make("div", { style: `width:${cellWidth}px`, title: data.tokens[k], class: segmentClass(k) },
        columnLabels, shortToken(k));
    }
  }

  function drawHeadView() {
    const rowHeight = 18;
    const rows = windowEnd() - state.start;
    const ns = svg.namespaceURI;
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(ns, tag);
      for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
      if (text !== undefined) node.textContent = text;
      return svg.appendChild(node);
    };
    svg.textContent = "";
    svg.setAttribute("width", 360);
    svg.setAttribute("height", rows * rowHeight + 8);
    const y = (i) => (i - state.start) * rowHeight + rowHeight / 2 + 4;
    for (let q = state.start; q < windowEnd(); q++) {
      for (let k = state.start; k < windowEnd(); k++) {
        const w = shown(state.layer, state.head, q, k);
        if (w <= 0) continue;  // masked or rounded to zero: nothing to draw
        add("line", { x1: 150, y1: y(q), x2: 210, y2: y(k), "stroke-width": 2,
          "stroke-opacity": state.showMask ? 0.35 : w, "data-q": q, "data-k": k, "data-w": w });
      }
    }
    for (let i = state.start; i < windowEnd(); i++) {
      const segment = segmented && data.segments[i] ? "mtx-seg-b" : "";
      const left = add("text", { x: 145, y: y(i) + 4, "text-anchor": "end", class: segment,
        "data-side": "q", "data-i": i }, shortToken(i));
      const right = add("text", { x: 215, y: y(i) + 4, class: segment, "data-side": "k", "data-i": i },
        shortToken(i));
      left.addEventListener("mouseenter", safely(() => highlight("q", i)));
      right.addEventListener("mouseenter", safely(() => highlight("k", i)));
      left.addEventListener("mouseleave", safely(() => highlight(null)));
      right.addEventListener("mouseleave", safely(() => highlight(null)));
    }
  }

  // Highlight one token's lines ("q": what it attends to; "k": who attends to it).
  function highlight(side, index) {
    svg.classList.toggle("mtx-hovering", side !== null);
    for (const node of svg.querySelectorAll(".mtx-hot")) node.classList.remove("mtx-hot");
    if (side === null) return;
    for (const line of svg.querySelectorAll(`line[data-${side}="${index}"]`)) line.classList.add("mtx-hot");
    const token = svg.querySelector(`text[data-side="${side}"][data-i="${index}"]`);
    if (token) token.classList.add("mtx-hot");
  }

  function drawGrid() {
    grid.textContent = "";
    grid.style.gridTemplateColumns = `auto repeat(${data.n_heads}, 76px)`;
    for (let l = 0; l < data.n_layers; l++) {
      make("div", {}, grid, `layer ${data.layers[l]}`);
      for (let h = 0; h < data.n_heads; h++) {
        const panel = make("div", { class: "mtx-panel", "data-layer": l, "data-head": h,
          title: `layer ${data.layers[l]}, head ${h}` }, grid);
        paint(make("canvas", {}, panel), l, h);
        make("div", {}, panel, `L${data.layers[l]} H${h}`);
        panel.addEventListener("click", safely(() => select(l, h)));
      }
    }
    markSelected();
  }

  function markSelected() {
    for (const panel of grid.querySelectorAll(".mtx-panel")) {
      const picked = +panel.dataset.layer === state.layer && +panel.dataset.head === state.head;
      panel.classList.toggle("mtx-selected", picked);
    }
  }

  function updateControls() {
    layerSelect.value = state.layer;
    headSelect.value = state.head;
    rangeLabel.textContent = `queries ${state.start}\u2013${windowEnd() - 1} of ${T}`;
    prevButton.disabled = state.start === 0;
    nextButton.disabled = windowEnd() >= T;
  }

  function select(layer, head) {
    state.layer = layer;
    state.head = head;
    drawHeatmap();
    drawHeadView();
    markSelected();
    updateControls();
  }
  // Moving the window or toggling the mask changes every panel, so everything is redrawn.
  function redrawAll() {
    drawGrid();
    select(state.layer, state.head);
  }

  // ---- events
  layerSelect.addEventListener("change", safely(() => select(+layerSelect.value, state.head)));
  headSelect.addEventListener("change", safely(() => select(state.layer, +headSelect.value)));
  prevButton.addEventListener("click", safely(() => { state.start = Math.max(0, state.start - W); redrawAll(); }));
  nextButton.addEventListener("click", safely(() => {
    if (state.start + W < T) state.start += W;
    redrawAll();
  }));
  maskToggle.addEventListener("change", safely(() => { state.showMask = maskToggle.checked; redrawAll(); }));
  heatCanvas.addEventListener("mousemove", safely((event) => {
    const box = heatCanvas.getBoundingClientRect();
    const k = Math.floor((event.clientX - box.left) / cellWidth);
    const q = state.start + Math.floor((event.clientY - box.top) / cellHeight);
    if (k < 0 || k >= T || q < state.start || q >= windowEnd()) return;
    const value = state.showMask ? (shown(state.layer, state.head, q, k) ? "may attend" : "hidden")
      : shown(state.layer, state.head, q, k).toFixed(data.decimals);
    readout.textContent = `"${data.tokens[q]}" (${q}) \u2192 "${data.tokens[k]}" (${k}): ${value}`;
    highlight("q", q);
  }));
  heatCanvas.addEventListener("mouseleave", safely(() => highlight(null)));

  safely(redrawAll)();
  // Automated checks only (selftest.js): page.html#test=... drives this view's controls.
  if (/test=/.test(window.location.hash)) {
    const shownAfterMs = performance.now() - startTime;
    safely(() => runSelfTest(root, { errors, report, shownAfterMs, red: [LOW[0], HIGH[0]] }))();
  }
}
