// chainrule playground: the page. The Python session trains; this file only draws what the
// server pushes (server-sent events: "network" when the shape changes, "frame" after each
// batch of steps) and sends the learner's choices back as small JSON requests.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const DATASETS = [
  ["circle", "circle"], ["xor", "XOR"], ["gauss", "two Gaussians"], ["spiral", "spiral"],
  ["moons", "moons"], ["reg-plane", "plane (regression)"], ["reg-gauss", "Gaussian (regression)"],
];
const MAX_NEURONS = 8;
const MAX_LAYERS = 6;
const CELL = 38;           // neuron heatmap size in px
const ROW = 50;            // vertical distance between neurons
const RUN_COLOURS = ["#1a73e8", "#d93025", "#188038", "#9334e6", "#e37400", "#007b83", "#b06000", "#5f6368"];

const state = {
  net: null,        // the last "network" event: widths, features, points, options, runs
  frame: null,      // the last "frame" event: weights, heatmaps, losses, panel, health
  runs: [],         // loss curves, the current run last
  positions: {},    // "layer-index" → {x, y} centre of each drawn neuron
};

const $ = (selector) => document.querySelector(selector);
const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

// ----- talking to the server ----------------------------------------------------------------
async function api(path, body, raw) {
  const headers = {"X-Chainrule-Token": TOKEN};
  if (!raw) headers["Content-Type"] = "application/json";
  const res = await fetch(path, {method: "POST", headers, body: raw ? body : JSON.stringify(body)});
  const data = await res.json();
  if (!res.ok) throw new Error(data.error || res.statusText);
  if (data.network) onNetwork(data.network);
  if (data.frame) onFrame(data.frame);
  return data;
}

function setOptions(changes) {
  return api("/api/options", changes).catch(showError);
}

function control(action) {
  return api("/api/control", {action}).catch(showError);
}

function showError(err) {
  const box = byTestId("export-message");
  box.textContent = String(err.message || err);
  box.className = "message error";
}

function connect() {
  const events = new EventSource(`/api/events?token=${encodeURIComponent(TOKEN)}`);
  events.addEventListener("network", (e) => onNetwork(JSON.parse(e.data)));
  events.addEventListener("frame", (e) => onFrame(JSON.parse(e.data)));
  // EventSource reconnects by itself; the server sends the full state on every connect.
}

// ----- colours --------------------------------------------------------------------------------
// u in [-1, 1]: orange for negative, near-white for 0, blue for positive.
function colour(u) {
  const neg = [232, 113, 10], mid = [245, 245, 245], pos = [26, 115, 232];
  const t = Math.min(Math.abs(u), 1);
  const end = u < 0 ? neg : pos;
  return mid.map((m, i) => Math.round(m + (end[i] - m) * t));
}

function cssColour(u) {
  const [r, g, b] = colour(u);
  return `rgb(${r},${g},${b})`;
}

function decode(base64) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

// Paint an n×n heatmap (bytes 0..255 for -1..+1) onto a canvas, scaled smoothly.
function paintHeatmap(canvas, base64, n) {
  const bytes = decode(base64);
  const small = document.createElement("canvas");
  small.width = small.height = n;
  const ctx = small.getContext("2d");
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const [r, g, b] = colour(bytes[i] / 127.5 - 1);
    image.data.set([r, g, b, 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  const out = canvas.getContext("2d");
  out.imageSmoothingEnabled = true;
  out.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// ----- the controls -----------------------------------------------------------------------------
function buildDatasetButtons() {
  const box = $("#datasets");
  for (const [name, label] of DATASETS) {
    const button = document.createElement("button");
    button.dataset.testid = `dataset-${name}`;
    button.textContent = label;
    button.addEventListener("click", () => setOptions({dataset: name}));
    box.appendChild(button);
  }
}

function wireControls() {
  for (const action of ["play", "pause", "step", "reset", "reset-same-init", "regenerate"]) {
    byTestId(action).addEventListener("click", () => control(action));
  }
  for (const select of document.querySelectorAll("select[data-option]")) {
    select.addEventListener("change", () => {
      const value = select.dataset.type === "number" ? Number(select.value) : select.value;
      setOptions({[select.dataset.option]: value});
    });
  }
  const percent = {train_ratio: true, noise: true};
  for (const slider of document.querySelectorAll("input[type=range][data-option]")) {
    slider.addEventListener("change", () => {
      const key = slider.dataset.option;
      const value = percent[key] ? Number(slider.value) / 100 : Number(slider.value);
      setOptions({[key]: value});
    });
  }
  byTestId("add-layer").addEventListener("click", () => changeLayers(+1));
  byTestId("remove-layer").addEventListener("click", () => changeLayers(-1));
  byTestId("upload").addEventListener("change", uploadCsv);
  byTestId("show-test").addEventListener("change", drawBoundary);
  for (const kind of ["npz", "onnx", "script"]) {
    byTestId(`export-${kind}`).addEventListener("click", () => exportFile(kind));
  }
}

function changeLayers(delta) {
  const hidden = state.net.options.hidden.slice();
  if (delta > 0 && hidden.length < MAX_LAYERS) hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
  if (delta < 0 && hidden.length > 0) hidden.pop();
  setOptions({hidden});
}

function changeNeurons(layer, delta) {
  const hidden = state.net.options.hidden.slice();
  hidden[layer - 1] = Math.max(1, Math.min(MAX_NEURONS, hidden[layer - 1] + delta));
  setOptions({hidden});
}

function toggleFeature(name) {
  const chosen = new Set(state.net.options.features);
  if (chosen.has(name)) chosen.delete(name); else chosen.add(name);
  if (chosen.size === 0) return;  // the network needs at least one input
  setOptions({features: [...chosen]});
}

async function uploadCsv(event) {
  const file = event.target.files[0];
  const box = byTestId("upload-message");
  if (!file) return;
  try {
    const data = await api("/api/upload", await file.arrayBuffer(), true);
    box.textContent = `using ${file.name}: ${data.note}`;
    box.className = "message ok";
  } catch (err) {
    box.textContent = String(err.message);
    box.className = "message error";
  }
  event.target.value = "";  // choosing the same file again uploads it again
}

async function exportFile(kind) {
  const box = byTestId("export-message");
  try {
    const data = await api("/api/export", {kind});
    box.innerHTML = "";
    const link = document.createElement("a");
    link.href = data.url;
    link.download = data.file;
    link.textContent = `download ${data.file}`;
    link.dataset.testid = `download-${kind}`;
    box.appendChild(link);
    box.className = "message ok";
  } catch (err) {
    box.textContent = String(err.message);
    box.className = "message error";
  }
}

function showOptions(options) {
  for (const select of document.querySelectorAll("select[data-option]")) {
    const value = String(options[select.dataset.option]);
    const match = [...select.options].find((o) => (o.value || o.text) === value ||
      Number(o.value) === Number(value));
    if (match) select.value = match.value;
  }
  byTestId("train-ratio").value = Math.round(options.train_ratio * 100);
  byTestId("noise").value = Math.round(options.noise * 100);
  byTestId("batch-size").value = options.batch_size;
  $("#train-ratio-value").textContent = `${Math.round(options.train_ratio * 100)}%`;
  $("#noise-value").textContent = `${Math.round(options.noise * 100)}%`;
  $("#batch-size-value").textContent = options.batch_size;
  for (const button of document.querySelectorAll("#datasets button")) {
    button.classList.toggle("chosen", button.dataset.testid === `dataset-${options.dataset}`);
  }
  const hidden = options.hidden.length;
  $("#layer-count").textContent = `${hidden} hidden layer${hidden === 1 ? "" : "s"}`;
}

// ----- the network drawing --------------------------------------------------------------------
function onNetwork(net) {
  const sameShape = state.net && state.net.version === net.version;
  state.net = net;
  state.runs = net.runs.map((r) => ({...r, points: r.points.slice()}));
  showOptions(net.options);
  if (!sameShape) buildNetwork();  // same version: same shape, keep the drawn network
  drawLossChart();
}

function columnX(layer, layers, width) {
  return 40 + (layer * (width - 80)) / (layers - 1);
}

function buildNetwork() {
  const box = $("#network");
  for (const old of box.querySelectorAll(".neuron, .feature, .layer-buttons")) old.remove();
  const widths = state.net.widths;
  const features = state.net.all_features;
  const rows = Math.max(features.length, ...widths);
  const width = box.clientWidth || 560;
  box.style.height = `${rows * ROW + 40}px`;
  state.positions = {};
  const active = state.net.options.features;
  features.forEach((f, row) => {
    const index = active.indexOf(f.name);
    const y = 40 + row * ROW + CELL / 2;
    const x = columnX(0, widths.length, width);
    const el = addNeuron(box, x, y, index >= 0 ? `neuron-0-${index}` : null, f.label);
    el.classList.add("feature");
    el.dataset.feature = f.name;
    el.classList.toggle("off", index < 0);
    el.title = `${f.label}: click the label to ${index < 0 ? "use" : "drop"} this input`;
    el.querySelector(".label").addEventListener("click", () => toggleFeature(f.name));
    paintHeatmap(el.querySelector("canvas"), state.net.feature_maps[f.name], state.net.grid);
    el.querySelector(".label").dataset.testid = `feature-${f.name}`;
    if (index < 0) el.querySelector("canvas").addEventListener("click", () => toggleFeature(f.name));
    if (index >= 0) state.positions[`0-${index}`] = {x, y};
  });
  for (let layer = 1; layer < widths.length; layer++) {
    const x = columnX(layer, widths.length, width);
    const offset = layer === widths.length - 1 ? (rows - 1) * ROW / 2 : 0;
    for (let j = 0; j < widths[layer]; j++) {
      const y = 40 + offset + j * ROW + CELL / 2;
      addNeuron(box, x, y, `neuron-${layer}-${j}`, "");
      state.positions[`${layer}-${j}`] = {x, y};
    }
    if (layer < widths.length - 1) addLayerButtons(box, x, layer, widths[layer]);
  }
  buildLinks(width, rows);
}

function addNeuron(box, x, y, testid, label) {
  const el = document.createElement("div");
  el.className = "neuron";
  el.style.left = `${x - CELL / 2}px`;
  el.style.top = `${y - CELL / 2}px`;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = CELL;
  el.appendChild(canvas);
  const text = document.createElement("span");
  text.className = "label";
  text.textContent = label;
  el.appendChild(text);
  if (testid) {
    canvas.dataset.testid = testid;
    const [, layer, index] = testid.split("-").map(Number);
    canvas.addEventListener("click", () => select({kind: "neuron", layer, index}));
    canvas.addEventListener("mousemove", (e) => tooltip(e, neuronText(layer, index)));
    canvas.addEventListener("mouseleave", hideTooltip);
  }
  box.appendChild(el);
  return el;
}

function addLayerButtons(box, x, layer, count) {
  const el = document.createElement("div");
  el.className = "layer-buttons";
  el.style.left = `${x - 30}px`;
  el.innerHTML = `<button data-testid="add-neuron-${layer}">+</button>` +
    `<button data-testid="remove-neuron-${layer}">−</button><div>${count} neuron${count === 1 ? "" : "s"}</div>`;
  el.children[0].addEventListener("click", () => changeNeurons(layer, +1));
  el.children[1].addEventListener("click", () => changeNeurons(layer, -1));
  box.appendChild(el);
}

function buildLinks(width, rows) {
  const svg = $("#links");
  svg.innerHTML = "";
  svg.setAttribute("width", width);
  svg.setAttribute("height", rows * ROW + 40);
  const widths = state.net.widths;
  for (let layer = 1; layer < widths.length; layer++) {
    for (let from = 0; from < widths[layer - 1]; from++) {
      for (let to = 0; to < widths[layer]; to++) {
        const a = state.positions[`${layer - 1}-${from}`], b = state.positions[`${layer}-${to}`];
        const mx = (a.x + b.x) / 2;
        const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
        path.setAttribute("d", `M${a.x + CELL / 2},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x - CELL / 2},${b.y}`);
        path.dataset.testid = `weight-${layer}-${from}-${to}`;
        path.classList.add("link");
        path.addEventListener("click", () => select({kind: "weight", layer, from, to}));
        path.addEventListener("mousemove", (e) => tooltip(e, weightText(layer, from, to)));
        path.addEventListener("mouseleave", hideTooltip);
        svg.appendChild(path);
      }
    }
  }
}

const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹", SUB = "₀₁₂₃₄₅₆₇₈₉";
const sup = (n) => `⁽${String(n).split("").map((d) => SUP[d]).join("")}⁾`;
const sub = (n) => String(n).split("").map((d) => SUB[d]).join("");
const fmt = (v) => (v === null || v === undefined ? "non-finite" : Number(v).toPrecision(4));

function weightText(layer, from, to) {
  const w = state.frame ? state.frame.weights[layer - 1][to][from] : null;
  return `W${sup(layer)}${sub(to + 1)}${sub(from + 1)} = ${fmt(w)}  (click for its gradient)`;
}

function neuronText(layer, index) {
  const f = state.frame;
  if (!f) return "";
  const range = f.ranges[`${layer}-${index}`] || [null, null];
  const span = `values over the plane from ${fmt(range[0])} to ${fmt(range[1])}`;
  if (layer === 0) return `input ${state.net.features[index].label}: ${span}`;
  const b = f.biases[layer - 1][index];
  return `neuron ${index + 1} of layer ${layer}: b${sup(layer)}${sub(index + 1)} = ${fmt(b)}, a ${span}`;
}

function tooltip(event, text) {
  const tip = $("#tooltip");
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${event.pageX + 12}px`;
  tip.style.top = `${event.pageY + 12}px`;
}

function hideTooltip() {
  $("#tooltip").hidden = true;
}

function select(selection) {
  api("/api/select", selection).catch(showError);
}

// ----- a frame -----------------------------------------------------------------------------------
function onFrame(frame) {
  if (state.net && frame.version !== state.net.version) return;  // a network event is on its way
  state.frame = frame;
  window.playgroundFrames = (window.playgroundFrames || 0) + 1;  // tests measure the rate
  byTestId("epoch").textContent = frame.epoch;
  byTestId("step-count").textContent = frame.step;
  byTestId("train-loss").textContent = fmt(frame.train_loss);
  byTestId("test-loss").textContent = fmt(frame.test_loss);
  byTestId("train-loss").dataset.value = frame.train_loss;
  byTestId("test-loss").dataset.value = frame.test_loss;
  document.body.classList.toggle("playing", frame.playing);
  for (const [key, base64] of Object.entries(frame.heatmaps)) {
    const canvas = byTestId(`neuron-${key}`);
    if (canvas) paintHeatmap(canvas, base64, state.net.grid);
  }
  styleLinks(frame.weights);
  addPoint(frame);
  drawBoundary();
  drawLossChart();
  showPanel(frame.panel);
  showHealth(frame.health, frame.divergence);
}

function styleLinks(weights) {
  for (const path of document.querySelectorAll("path.link")) {
    const [, layer, from, to] = path.dataset.testid.split("-").map(Number);
    const w = weights[layer - 1][to][from];
    const selected = state.frame.panel && state.frame.panel.selection;
    const chosen = selected && selected.kind === "weight" && selected.layer === layer &&
      selected.from === from && selected.to === to;
    path.style.stroke = w === null ? "#d93025" : cssColour(w >= 0 ? 1 : -1);
    path.style.strokeWidth = w === null ? 2 : Math.min(1 + 2.5 * Math.abs(w), 9);
    path.style.opacity = w === null ? 1 : 0.35 + 0.65 * Math.min(Math.abs(w), 1);
    path.classList.toggle("selected", Boolean(chosen));
  }
}

function addPoint(frame) {
  const run = state.runs[state.runs.length - 1];
  if (!run || run.id !== frame.run) return;
  const last = run.points[run.points.length - 1];
  if (last && last[0] === frame.point[0]) run.points[run.points.length - 1] = frame.point;
  else run.points.push(frame.point);
}

function drawBoundary() {
  const canvas = byTestId("boundary");
  if (!state.frame || !state.net) return;
  paintHeatmap(canvas, state.frame.boundary, state.net.boundary_grid);
  const ctx = canvas.getContext("2d");
  const plane = state.net.plane;
  const toPx = (v) => ((v + plane) / (2 * plane)) * canvas.width;
  const regression = state.net.problem === "regression";
  const sets = [[state.net.train, "#ffffff"]];
  if (byTestId("show-test").checked) sets.push([state.net.test, "#202124"]);
  for (const [points, outline] of sets) {
    for (const [x1, x2, y] of points) {
      ctx.beginPath();
      ctx.arc(toPx(x1), canvas.height - toPx(x2), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = cssColour(regression ? y : 2 * y - 1);
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = outline;
      ctx.stroke();
    }
  }
}

function drawLossChart() {
  const canvas = byTestId("loss-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const all = state.runs.flatMap((r) => r.points);
  const finite = all.flatMap((p) => [p[1], p[2]]).filter((v) => v !== null);
  if (!finite.length) return;
  const maxStep = Math.max(1, ...all.map((p) => p[0]));
  const top = Math.max(...finite) * 1.05 || 1;
  const x = (s) => 4 + (s / maxStep) * (canvas.width - 8);
  const y = (v) => canvas.height - 4 - (v / top) * (canvas.height - 8);
  state.runs.forEach((run, i) => {
    const current = i === state.runs.length - 1;
    const colour = RUN_COLOURS[run.id % RUN_COLOURS.length];
    for (const [column, dash] of [[2, []], [1, [4, 3]]]) {  // test solid, train dashed
      ctx.beginPath();
      let drawing = false;
      for (const p of run.points) {
        if (p[column] === null) { drawing = false; continue; }
        if (drawing) ctx.lineTo(x(p[0]), y(p[column])); else ctx.moveTo(x(p[0]), y(p[column]));
        drawing = true;
      }
      ctx.setLineDash(dash);
      ctx.strokeStyle = colour;
      ctx.globalAlpha = current ? 1 : 0.45;
      ctx.lineWidth = current ? 2 : 1.2;
      ctx.stroke();
    }
  });
  ctx.setLineDash([]);
  ctx.globalAlpha = 1;
  const legend = byTestId("runs-legend");
  legend.innerHTML = state.runs.map((run) =>
    `<div><i style="background:${RUN_COLOURS[run.id % RUN_COLOURS.length]}"></i>run ${run.id}: ` +
    `${escapeHtml(run.label)}</div>`).join("") +
    `<div class="hint">solid: test loss, dashed: train loss; y from 0 to ${top.toPrecision(3)}</div>`;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
}

// ----- the gradient panel and health ------------------------------------------------------------
function showPanel(panel) {
  const box = byTestId("gradient-panel");
  for (const el of document.querySelectorAll("canvas.selected")) el.classList.remove("selected");
  if (!panel) {
    box.innerHTML = "<h2>Gradient panel</h2><p class=\"hint\">Click a neuron or a weight in the network.</p>";
    return;
  }
  if (panel.selection.kind === "neuron") {
    const canvas = byTestId(`neuron-${panel.selection.layer}-${panel.selection.index}`);
    if (canvas) canvas.classList.add("selected");
  }
  const block = (title, lines, id) => lines.length
    ? `<h3>${title}</h3><pre data-testid="panel-${id}">${lines.map(escapeHtml).join("\n")}</pre>` : "";
  let html = `<h2 data-testid="panel-heading">${escapeHtml(panel.heading)}</h2>` +
    block("Forward pass", panel.forward, "forward") +
    block("Backward pass: δ = ∂ℓ/∂z", panel.delta, "delta") +
    block("Gradient", panel.gradient, "gradient") +
    block("Update", panel.update, "update");
  if (panel.check) {
    const row = (name, key) => `<tr><td>${name}</td><td data-testid="panel-${key}" ` +
      `data-value="${panel.check[key]}">${Number(panel.check[key]).toPrecision(12)}</td></tr>`;
    const diff = Math.abs(panel.check.autograd - panel.check.numeric);
    html += "<h3>The same gradient three ways</h3><table class=\"check\">" +
      row("δ-rule (the article, on the weights before the step)", "delta_rule") +
      row("autograd (what optim.SGD applied)", "autograd") +
      row("central differences, ε = 10⁻⁶", "numeric") +
      `</table><p class="hint">|autograd − numeric| = ${diff.toExponential(2)}</p>`;
  }
  box.innerHTML = html;
}

function showHealth(health, divergence) {
  const box = byTestId("divergence");
  if (divergence) {
    box.hidden = false;
    box.innerHTML = `<b>${escapeHtml(divergence.message)}</b><ul>` +
      divergence.advice.map((a) => `<li>${escapeHtml(a)}</li>`).join("") + "</ul>";
  } else {
    box.hidden = true;
  }
  const findings = health.findings.map((f) => `<li>${escapeHtml(f)}</li>`).join("");
  const number = (v) => (v === undefined || v === null ? "–" : Number(v).toExponential(1));
  const rows = health.rows.filter((r) => r.grad_norm !== undefined).map((r) =>
    `<tr><td>${escapeHtml(r.layer)}</td><td>${number(r.grad_norm)}</td><td>${number(r.update_ratio)}</td></tr>`).join("");
  byTestId("health").innerHTML = `<h3>Gradient health</h3><p>${escapeHtml(health.summary)}</p>` +
    (findings ? `<ul>${findings}</ul>` : "") +
    (rows ? `<table><tr><th></th><th>‖∇W‖</th><th>‖ΔW‖/‖W‖</th></tr>${rows}</table>` : "");
}

// ----- start -------------------------------------------------------------------------------------
buildDatasetButtons();
wireControls();
connect();
window.addEventListener("resize", () => state.net && buildNetwork());
