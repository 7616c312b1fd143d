// chainviz batch view: a progress bar, counters, throughput, per-step latency
// percentiles, the slowest items and the errors of a batch, as it runs.
//
// Python sends a snapshot at most ten times a second (and once more at the end); this
// file only draws it. Every string that came from a user (step labels, error messages,
// worker names) is written with textContent: never as markup.

const GLYPHS = { idle: "○", running: "◔", done: "✓", error: "✗", cancelled: "⊘" };
const WORDS = { idle: "not run yet", running: "running", done: "done", error: "failed",
  cancelled: "stopped" };
const STATUSES = Object.keys(GLYPHS);
const SEGMENTS = ["done", "failed", "cancelled", "in_flight"];

function fmt(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 0.001) return `${(seconds * 1000).toFixed(2)} ms`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  return `${Math.round(seconds)} s`;
}

function rate(value) {
  if (value === null || value === undefined || !isFinite(value)) return "–";
  return value >= 10 ? Math.round(value).toLocaleString("en") : value.toFixed(2);
}

function count(value) {
  return value === null || value === undefined ? "–" : Number(value).toLocaleString("en");
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ------------------------------------------------------------------------ the parts

class Counters {
  constructor(box) {
    this.cells = new Map();
    const specs = [
      ["done", "done"], ["failed", "failed"], ["cancelled", "stopped"],
      ["in_flight", "in flight"], ["pending", "pending"],
      ["rate_window", "items/s, last 5 s"], ["rate_overall", "items/s overall"],
      ["elapsed_s", "elapsed"], ["workers", "worker processes"],
    ];
    for (const [key, name] of specs) {
      const cell = h("div", `cvb-count cvb-count-${key}`);
      cell.dataset.key = key;
      const value = h("div", "cvb-count-value", "–");
      cell.append(value, h("div", "cvb-count-name", name));
      box.appendChild(cell);
      this.cells.set(key, { cell, value });
    }
  }

  update(snap) {
    for (const [key, { cell, value }] of this.cells) {
      let text;
      if (key === "elapsed_s") text = fmt(snap.elapsed_s);
      else if (key.startsWith("rate_")) text = rate(snap[key]);
      else text = count(snap[key]);
      setText(value, text);
      cell.dataset.value = snap[key] === null || snap[key] === undefined ? "" : String(snap[key]);
    }
    const windowName = this.cells.get("rate_window").cell.querySelector(".cvb-count-name");
    setText(windowName, `items/s, last ${snap.window_s || 0} s`);
    this.cells.get("in_flight").cell.hidden = snap.in_flight === null;
    this.cells.get("workers").cell.hidden = !(snap.workers > 1);
  }
}

class Progress {
  constructor(box) {
    this.track = h("div", "cvb-track");
    this.segments = new Map();
    for (const key of SEGMENTS) {
      const seg = h("div", `cvb-seg cvb-seg-${key}`);
      this.track.appendChild(seg);
      this.segments.set(key, seg);
    }
    this.label = h("div", "cvb-progress-label");
    box.append(this.track, this.label);
  }

  update(snap) {
    const total = Math.max(snap.total || 0, 1);
    for (const [key, seg] of this.segments) {
      const share = (100 * (snap[key] || 0)) / total;
      seg.style.width = `${share}%`;
      seg.title = `${count(snap[key] || 0)} ${key.replace("_", " ")}`;
    }
    const percent = Math.floor((100 * (snap.finished || 0)) / total);
    setText(this.label, `${count(snap.finished || 0)} / ${count(snap.total || 0)} · ${percent}%`);
  }
}

function drawSteps(table, steps) {
  table.replaceChildren();
  if (!steps.length) {
    table.hidden = true;
    return;
  }
  table.hidden = false;
  const head = h("tr");
  for (const name of ["step", "items", "p50", "p95", "max", "p50 → p95"]) {
    head.appendChild(h("th", "", name));
  }
  const thead = h("thead");
  thead.appendChild(head);
  const body = h("tbody");
  const widest = Math.max(...steps.map((s) => s.p95 || 0), 1e-9);
  for (const step of steps) {
    const row = h("tr", "cvb-step");
    row.dataset.stepId = step.id;
    const name = h("td", "cvb-step-name");
    name.style.paddingLeft = `${4 + 14 * Math.max(0, (step.depth || 0) - 1)}px`;
    name.append(h("span", "cvb-step-label", step.label));
    if (step.id) name.append(h("span", "cvb-step-id", step.id));
    name.title = step.id ? `node ${step.id}` : "the whole chain";
    const bar = h("td", "cvb-step-bar");
    const fill = h("div", "cvb-step-fill");
    fill.style.width = `${(100 * (step.p50 || 0)) / widest}%`;
    const tail = h("div", "cvb-step-tail");
    tail.style.width = `${(100 * Math.max((step.p95 || 0) - (step.p50 || 0), 0)) / widest}%`;
    bar.append(fill, tail);
    row.append(name, h("td", "cvb-num", count(step.count)), h("td", "cvb-num cvb-p50", fmt(step.p50)),
      h("td", "cvb-num cvb-p95", fmt(step.p95)), h("td", "cvb-num", fmt(step.max)), bar);
    body.appendChild(row);
  }
  table.append(thead, body);
}

function drawSlowest(box, slowest) {
  box.replaceChildren();
  box.hidden = !slowest.length;
  if (!slowest.length) return;
  box.appendChild(h("span", "cvb-caption", "slowest items"));
  for (const item of slowest) {
    const chip = h("span", `cvb-chip cvb-chip-${item.status}`, `#${item.index} ${fmt(item.seconds)}`);
    chip.title = item.worker ? `ran on ${item.worker}` : "";
    box.appendChild(chip);
  }
}

function drawErrors(box, groups, recent) {
  box.replaceChildren();
  box.hidden = !groups.length;
  if (!groups.length) return;
  box.appendChild(h("div", "cvb-caption", "errors"));
  const list = h("ul", "cvb-error-groups");
  for (const group of groups) {
    const item = h("li", "cvb-error-group");
    item.append(h("span", "cvb-error-type", `✗ ${group.type} ×${count(group.count)}`),
      h("span", "cvb-error-first", ` first in item ${group.first_index}: `),
      h("span", "cvb-error-message", group.message));
    list.appendChild(item);
  }
  box.appendChild(list);
  if (recent.length) {
    const last = h("details", "cvb-recent");
    last.appendChild(h("summary", "", `most recent ${recent.length}`));
    for (const error of recent) {
      const line = h("div", "cvb-recent-error", `#${error.index} ${error.type}: ${error.message}`);
      line.title = error.worker ? `on ${error.worker}` : "";
      last.appendChild(line);
    }
    box.appendChild(last);
  }
}

// --------------------------------------------------------------------------- widget

function render({ model, el }) {
  const root = h("div", "cvb-root");
  const head = h("div", "cvb-head");
  const glyph = h("span", "cvb-glyph", GLYPHS.idle);
  const status = h("span", "cvb-status", "");
  head.append(glyph, status);
  const progress = h("div", "cvb-progress");
  const counters = h("div", "cvb-counters");
  const table = h("table", "cvb-steps");
  const slowest = h("div", "cvb-slowest");
  const errors = h("div", "cvb-errors");
  root.append(head, progress, counters, table, slowest, errors);
  el.appendChild(root);

  const bar = new Progress(progress);
  const cells = new Counters(counters);

  const draw = () => {
    const snap = model.get("snapshot") || {};
    const state = STATUSES.includes(snap.status) ? snap.status : "idle";
    root.dataset.status = state;
    root.dataset.run = String(snap.run || 0);
    root.dataset.finished = String(snap.finished || 0);
    for (const s of STATUSES) root.classList.toggle(`cvb-s-${s}`, s === state);
    setText(glyph, GLYPHS[state]);
    const total = count(snap.total || 0);
    setText(status, state === "idle"
      ? `batch of ${total} items · ${WORDS.idle}`
      : `${WORDS[state]} · ${count(snap.finished || 0)} of ${total} items · ${fmt(snap.elapsed_s)}`);
    bar.update(snap);
    cells.update(snap);
    drawSteps(table, snap.steps || []);
    drawSlowest(slowest, snap.slowest || []);
    drawErrors(errors, snap.errors || [], snap.recent_errors || []);
  };

  draw();
  model.on("change:snapshot", draw);
  return () => model.off("change:snapshot", draw);
}

export default { render };
