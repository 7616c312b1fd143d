// chainviz live view: the graph recoloured by node state, one latency bar per lane on
// a shared time axis, the run's summary, and each lane's output.
//
// Python sends a snapshot at most ten times a second; between snapshots, running bars
// grow with the browser's own clock (requestAnimationFrame). Every string that came
// from a user (labels, ids, outputs, errors) is written with textContent or as an SVG
// text node: never as markup. The graph SVG is chainviz.graph's (escaped there).

const SVG_NS = "http://www.w3.org/2000/svg";
const STATUSES = ["idle", "running", "done", "error", "cancelled"];
const GLYPHS = { idle: "○", running: "◔", done: "✓", error: "✗", cancelled: "⊘" };
const WORDS = {
  idle: "not run",
  running: "running",
  done: "done",
  error: "failed",
  cancelled: "cancelled",
};

function fmt(seconds) {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return "–";
  if (seconds < 0.001) return `${(seconds * 1000).toFixed(2)} ms`;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  return `${Math.round(seconds)} s`;
}

function niceStep(span) {
  const raw = span / 5;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const factor of [1, 2, 2.5, 5, 10]) {
    if (raw <= factor * magnitude) return factor * magnitude;
  }
  return 10 * magnitude;
}

function niceCeil(value) {
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const factor of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (value <= factor * magnitude) return factor * magnitude;
  }
  return 10 * magnitude;
}

function h(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatusClass(node, prefix, status) {
  for (const s of STATUSES) node.classList.remove(`${prefix}${s}`);
  node.classList.add(`${prefix}${status}`);
}

// ---------------------------------------------------------------------------- graph

function parseGraph(markup) {
  if (!markup) return null;
  const doc = new DOMParser().parseFromString(markup, "image/svg+xml");
  const svg = doc.documentElement;
  if (!svg || svg.nodeName !== "svg" || doc.getElementsByTagName("parsererror").length) {
    return null;
  }
  // Defence in depth: the graph layer escapes its text, and nothing here may run.
  for (const script of Array.from(svg.getElementsByTagName("script"))) script.remove();
  for (const element of [svg, ...svg.querySelectorAll("*")]) {
    for (const attr of Array.from(element.attributes)) {
      const name = attr.name.toLowerCase();
      const value = attr.value.trim().toLowerCase();
      if (name.startsWith("on") || value.startsWith("javascript:")) {
        element.removeAttribute(attr.name);
      }
    }
  }
  return document.importNode(svg, true);
}

class GraphPane {
  constructor(container) {
    this.container = container;
    this.svg = null;
    this.nodes = new Map(); // node id -> <g>
    this.titles = new Map(); // node id -> original title text
    this.badges = new Map(); // node id -> badge <g>
    this.fanOf = new Map(); // join id -> fan id
    this.edges = [];
  }

  show(markup, text) {
    this.container.replaceChildren();
    this.nodes.clear();
    this.badges.clear();
    this.titles.clear();
    this.fanOf.clear();
    this.edges = [];
    this.svg = parseGraph(markup);
    if (!this.svg) {
      if (text) this.container.appendChild(h("pre", "cv-graph-text", text));
      return;
    }
    this.svg.classList.add("cv-graph-svg");
    this.container.appendChild(this.svg);
    for (const g of this.svg.querySelectorAll("[data-node-id]")) {
      const id = g.getAttribute("data-node-id");
      this.nodes.set(id, g);
      const title = g.querySelector(":scope > title");
      this.titles.set(id, title ? title.textContent : "");
    }
    for (const g of this.svg.querySelectorAll("[data-join-id]")) {
      this.fanOf.set(g.getAttribute("data-join-id"), g.getAttribute("data-fan-id"));
    }
    this.edges = Array.from(this.svg.querySelectorAll("g.edge[data-source-id]"));
  }

  owner(end) {
    return this.fanOf.has(end) ? this.fanOf.get(end) : end;
  }

  badge(id, g) {
    let badge = this.badges.get(id);
    if (badge || !this.svg || !this.svg.isConnected) return badge;
    const shape = g.querySelector(":scope > polygon, :scope > path, :scope > ellipse");
    if (!shape) return null;
    let box;
    try {
      box = shape.getBBox();
    } catch (err) {
      return null;
    }
    if (!box.width) return null;
    badge = document.createElementNS(SVG_NS, "g");
    badge.setAttribute("class", "cv-badge");
    const x = box.x + box.width - 2;
    const y = box.y + 2;
    const circle = document.createElementNS(SVG_NS, "circle");
    circle.setAttribute("cx", x);
    circle.setAttribute("cy", y);
    circle.setAttribute("r", 7.5);
    const glyph = document.createElementNS(SVG_NS, "text");
    glyph.setAttribute("x", x);
    glyph.setAttribute("y", y + 3.6);
    glyph.setAttribute("text-anchor", "middle");
    badge.append(circle, glyph);
    g.appendChild(badge);
    this.badges.set(id, badge);
    return badge;
  }

  update(snapshot) {
    if (!this.svg) return;
    const states = snapshot.nodes || {};
    const errors = snapshot.errors || {};
    const critical = new Set(snapshot.critical || []);
    for (const [id, g] of this.nodes) {
      const status = states[id] || "idle";
      setStatusClass(g, "cv-live-", status);
      g.classList.toggle("cv-crit", critical.has(id));
      const badge = this.badge(id, g);
      if (badge) {
        badge.querySelector("text").textContent = status === "idle" ? "" : GLYPHS[status];
      }
      const title = g.querySelector(":scope > title");
      if (title) {
        const extra = errors[id] ? `\n${errors[id]}` : status === "idle" ? "" : `\n${WORDS[status]}`;
        title.textContent = this.titles.get(id) + extra;
      }
    }
    for (const edge of this.edges) {
      const source = this.owner(edge.getAttribute("data-source-id"));
      const target = this.owner(edge.getAttribute("data-target-id"));
      edge.classList.toggle("cv-crit", critical.has(source) && critical.has(target));
    }
    for (const [join, fan] of this.fanOf) {
      const g = this.svg.querySelector(`[data-join-id="${CSS.escape(join)}"]`);
      if (g) g.classList.toggle("cv-crit", critical.has(fan));
    }
  }
}

// ----------------------------------------------------------------------------- bars

class Lanes {
  constructor(bars, outputs) {
    this.bars = bars;
    this.outputs = outputs;
    this.rows = new Map();
    this.axis = h("div", "cv-track cv-axis");
    this.axisMax = 0;
  }

  build(lanes) {
    this.bars.replaceChildren();
    this.outputs.replaceChildren();
    this.rows.clear();
    const head = h("div", "cv-row cv-axis-row");
    head.append(h("div", "cv-lane-label cv-axis-label", "time"), this.axis);
    this.bars.appendChild(head);
    for (const lane of lanes) {
      const row = h("div", "cv-row cv-lane");
      row.dataset.laneId = lane.id;
      const label = h("div", "cv-lane-label");
      label.title = lane.id ? `node ${lane.id} (${lane.kind})` : `the whole chain (${lane.kind})`;
      const glyph = h("span", "cv-glyph", GLYPHS.idle);
      label.append(glyph, h("span", "cv-lane-name", lane.label));
      const track = h("div", "cv-track");
      const bar = h("div", "cv-bar");
      const time = h("span", "cv-bar-time");
      track.append(bar, time);
      row.append(label, track);
      this.bars.appendChild(row);

      const card = h("div", "cv-card");
      card.dataset.laneId = lane.id;
      const cardHead = h("div", "cv-card-head");
      const cardGlyph = h("span", "cv-glyph", GLYPHS.idle);
      const cardStatus = h("span", "cv-card-status", WORDS.idle);
      cardHead.append(cardGlyph, h("span", "cv-card-title", lane.label), cardStatus);
      const text = h("pre", "cv-card-text");
      const error = h("div", "cv-card-error");
      card.append(cardHead, text, error);
      this.outputs.appendChild(card);
      this.rows.set(lane.id, { row, glyph, bar, time, card, cardGlyph, cardStatus, text, error });
    }
  }

  update(snapshot) {
    const critical = new Set(snapshot.critical || []);
    for (const lane of snapshot.lanes || []) {
      const parts = this.rows.get(lane.id);
      if (!parts) continue;
      const status = lane.status || "idle";
      for (const node of [parts.row, parts.card]) setStatusClass(node, "cv-s-", status);
      parts.row.classList.toggle("cv-crit", critical.has(lane.id));
      parts.glyph.textContent = GLYPHS[status];
      parts.cardGlyph.textContent = GLYPHS[status];
      const word = WORDS[status];
      parts.cardStatus.textContent =
        lane.elapsed_s === null || status === "running" ? word : `${word} · ${fmt(lane.elapsed_s)}`;
      parts.cardStatus.title = lane.reason || "";
      const text = lane.text || (status === "running" ? "…" : "");
      if (parts.text.textContent !== text) parts.text.textContent = text;
      parts.text.scrollTop = parts.text.scrollHeight;
      if (lane.error) {
        parts.error.textContent = `✗ in ${lane.error_node || "(root)"}: ${lane.error}`;
        parts.error.hidden = false;
      } else if (status === "cancelled") {
        parts.error.textContent = `⊘ ${lane.reason || "cancelled"}`;
        parts.error.hidden = false;
      } else {
        parts.error.textContent = "";
        parts.error.hidden = true;
      }
    }
  }

  // Positions bars for the time `now` (seconds since the run started).
  draw(snapshot, delta) {
    const running = snapshot.status === "running";
    const total = (snapshot.elapsed_s || 0) + (running ? delta : 0);
    let axis;
    if (running) {
      axis = Math.max(this.axisMax, niceCeil(Math.max(total * 1.15, 0.05)));
    } else {
      let end = total;
      for (const lane of snapshot.lanes || []) {
        if (lane.start_s !== null) end = Math.max(end, lane.start_s + (lane.elapsed_s || 0));
      }
      axis = end > 0 ? end : 1;
    }
    if (axis !== this.axisMax) this.drawAxis(axis);
    this.axisMax = running ? axis : 0;
    for (const lane of snapshot.lanes || []) {
      const parts = this.rows.get(lane.id);
      if (!parts) continue;
      if (lane.start_s === null || lane.start_s === undefined) {
        parts.bar.style.width = "0%";
        parts.bar.style.left = "0%";
        parts.time.textContent = "";
        continue;
      }
      const grows = running && lane.status === "running";
      const elapsed = (lane.elapsed_s || 0) + (grows ? delta : 0);
      const left = (100 * lane.start_s) / axis;
      const width = (100 * elapsed) / axis;
      parts.bar.style.left = `${left}%`;
      parts.bar.style.width = `${Math.max(width, 0.15)}%`;
      parts.time.textContent = fmt(elapsed);
      // The track keeps a margin on its right, so the label always fits after the bar.
      parts.time.style.left = `${Math.min(left + width, 100)}%`;
    }
  }

  drawAxis(axis) {
    const step = niceStep(axis);
    this.axis.replaceChildren();
    for (let t = 0; t <= axis * 1.0001; t += step) {
      const tick = h("span", "cv-tick", t === 0 ? "0" : fmt(t));
      tick.style.left = `${(100 * t) / axis}%`;
      this.axis.appendChild(tick);
    }
    const size = `${(100 * step) / axis}% 100%`;
    for (const track of this.bars.querySelectorAll(".cv-track")) {
      track.style.backgroundSize = size;
    }
  }
}

// -------------------------------------------------------------------------- summary

function drawSummary(box, snapshot, lanes, delta) {
  box.replaceChildren();
  const status = snapshot.status || "idle";
  setStatusClass(box, "cv-s-", status);
  const head = h("div", "cv-summary-head");
  head.append(h("span", "cv-glyph", GLYPHS[status]));
  if (status === "idle") {
    head.append(h("span", "", "Not run yet: fill in the input and press Run."));
    box.appendChild(head);
    return;
  }
  if (status === "running") {
    head.append(h("span", "cv-summary-live", `running · ${fmt((snapshot.elapsed_s || 0) + delta)}`));
    box.appendChild(head);
    return;
  }
  const word = status === "done" ? "done" : status === "error" ? "failed" : "stopped";
  let line = `${word} after ${fmt(snapshot.elapsed_s)}`;
  if (status === "cancelled") line += " · finished branches kept";
  head.append(h("span", "", line));
  box.appendChild(head);
  const summary = snapshot.summary;
  if (!summary) return;
  const numbers = h("div", "cv-numbers");
  const stat = (name, value, cls) => {
    const cell = h("div", `cv-stat ${cls}`);
    cell.append(h("div", "cv-stat-value", value), h("div", "cv-stat-name", name));
    numbers.appendChild(cell);
  };
  stat("wall time", fmt(summary.wall_s), "cv-stat-wall");
  stat(lanes.length > 1 ? "sum of branches" : "sum", fmt(summary.sum_s), "cv-stat-sum");
  stat("speedup", summary.speedup ? `${summary.speedup.toFixed(2)}×` : "–", "cv-stat-speedup");
  box.appendChild(numbers);
  const slowest = lanes.find((lane) => lane.id === summary.slowest);
  if (slowest && lanes.length > 1) {
    const row = (snapshot.lanes || []).find((lane) => lane.id === summary.slowest);
    const note = `slowest branch: ${slowest.label} (${fmt(row ? row.elapsed_s : null)})`;
    box.appendChild(h("div", "cv-summary-note", note));
  }
}

// --------------------------------------------------------------------------- widget

function render({ model, el }) {
  const root = h("div", "cv-root");
  const top = h("div", "cv-top");
  const graphBox = h("div", "cv-graph");
  const summaryBox = h("div", "cv-summary");
  top.append(graphBox, summaryBox);
  const bars = h("div", "cv-bars");
  const outputs = h("div", "cv-outputs");
  root.append(top, bars, outputs);
  el.appendChild(root);

  const graph = new GraphPane(graphBox);
  const lanes = new Lanes(bars, outputs);
  let snapshot = {};
  let received = performance.now();
  let frame = 0;
  let lastSummary = 0;

  const delta = () => (performance.now() - received) / 1000;
  const animate = () => {
    frame = 0;
    const d = delta();
    lanes.draw(snapshot, d);
    const now = performance.now();
    if (now - lastSummary > 100) {
      drawSummary(summaryBox, snapshot, model.get("lanes") || [], d);
      lastSummary = now;
    }
    if (snapshot.status === "running") frame = requestAnimationFrame(animate);
  };
  const onSnapshot = () => {
    snapshot = model.get("snapshot") || {};
    received = performance.now();
    root.dataset.status = snapshot.status || "idle";
    root.dataset.run = String(snapshot.run || 0);
    graph.update(snapshot);
    lanes.update(snapshot);
    drawSummary(summaryBox, snapshot, model.get("lanes") || [], 0);
    lanes.draw(snapshot, 0);
    if (snapshot.status === "running" && !frame) frame = requestAnimationFrame(animate);
  };
  const onGraph = () => {
    graph.show(model.get("graph_svg"), model.get("graph_text"));
    graph.update(snapshot);
  };
  const onLanes = () => {
    lanes.build(model.get("lanes") || []);
    onSnapshot();
  };

  onGraph();
  onLanes();
  // Badges need layout (getBBox): draw them once the view is in the page.
  let tries = 0;
  const whenAttached = () => {
    if (root.isConnected) graph.update(snapshot);
    else if (++tries < 400) setTimeout(whenAttached, 50);
  };
  setTimeout(whenAttached, 0);

  model.on("change:snapshot", onSnapshot);
  model.on("change:graph_svg", onGraph);
  model.on("change:graph_text", onGraph);
  model.on("change:lanes", onLanes);
  return () => {
    if (frame) cancelAnimationFrame(frame);
    model.off("change:snapshot", onSnapshot);
    model.off("change:graph_svg", onGraph);
    model.off("change:graph_text", onGraph);
    model.off("change:lanes", onLanes);
  };
}

export default { render };
