// Topics by label (a heatmap) and over time (a line or stacked-area chart), drawn in SVG
// from the aggregates stored beside the model. Corpus text is inserted as text, never HTML.

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
  "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
  "#e6550d", "#31a354", "#756bb1"];

export function colour(k) { return PALETTE[k % PALETTE.length]; }

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) { node.setAttribute(k, v); }
  if (parent) { parent.appendChild(node); }
  return node;
}

function tip(node, text) { el("title", {}, node).textContent = text; return node; }

function pct(x) { return (100 * x).toFixed(1) + "%"; }

function topicName(t) { return t.label ? t.topic + " " + t.label : "topic " + t.topic; }

// GET JSON; a 202 (the stored views of an older model are being prepared) is followed
// until its job ends, then asked again.
export async function getPrepared(url, onWait) {
  for (;;) {
    const r = await fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"});
    const body = await r.json().catch(() => ({error: {message: "the server answered " + r.status}}));
    if (r.status === 202) {
      onWait(body);
      await waitJob(body.url);
      continue;
    }
    if (!r.ok) { throw new Error((body.error && body.error.message) || "HTTP " + r.status); }
    return body;
  }
}

async function waitJob(url) {
  for (;;) {
    await new Promise((done) => setTimeout(done, 700));
    const job = await (await fetch(url, {headers: {Accept: "application/json"}})).json();
    if (job.status === "finished") { return; }
    if (job.status === "failed" || job.status === "cancelled") { throw new Error("preparing failed: " + job.error); }
  }
}

function note(box, text, cls) {
  let p = box.querySelector(".chart-note");
  if (!p) { p = document.createElement("p"); p.className = "chart-note"; box.appendChild(p); }
  p.textContent = text;
  p.classList.toggle("error", cls === "error");
}

// -- heatmap: labels as rows, topics as columns -------------------------------------------------
export function drawHeatmap(box, data, state) {
  const K = data.topics.length;
  const rows = data.labels.map((label, i) => ({label, i}));
  if (state.sortTopic !== null) {
    rows.sort((a, b) => state.dir * (data.shares[b.i][state.sortTopic] - data.shares[a.i][state.sortTopic]));
  } else {
    rows.sort((a, b) => state.dir * a.label.localeCompare(b.label));
  }
  const cols = [...Array(K).keys()];
  if (state.sortLabel !== null) {
    cols.sort((a, b) => data.shares[state.sortLabel][b] - data.shares[state.sortLabel][a]);
  }
  const cell = Math.max(14, Math.min(36, Math.floor(720 / K)));
  const left = 180, top = 130;
  const width = left + K * cell + 130, height = top + rows.length * cell + 10;   // room for the slanted heads
  const max = Math.max(1e-9, ...data.shares.flat());
  const svg = el("svg", {width, height, viewBox: `0 0 ${width} ${height}`, class: "heatmap",
    role: "img", "aria-label": "mean topic share per label"});
  const corner = tip(el("text", {x: left - 8, y: top - 8, "text-anchor": "end", class: "sort-key"}, svg),
    "sort the labels by name");
  corner.textContent = "label ↕";
  corner.addEventListener("click", () => redraw({sortTopic: null, dir: state.sortTopic === null ? -state.dir : 1}));
  cols.forEach((k, c) => {
    const t = data.topics[k];
    const x = left + c * cell + cell / 2;
    const head = el("text", {x, y: top - 8, transform: `rotate(-55 ${x} ${top - 8})`, class: "col-head sort-key",
      "data-topic": k}, svg);
    head.textContent = (topicName(t) + (t.label ? "" : ": " + t.terms.join(" "))).slice(0, 28);
    tip(head, `sort the labels by their share of topic ${k}` + (t.terms ? ` (${t.terms.join(", ")})` : ""));
    head.addEventListener("click", () => redraw({sortTopic: k, dir: state.sortTopic === k ? -state.dir : 1}));
  });
  rows.forEach((row, r) => {
    const y = top + r * cell;
    const name = el("text", {x: left - 8, y: y + cell * 0.68, "text-anchor": "end", class: "row-head sort-key"}, svg);
    name.textContent = row.label.length > 24 ? row.label.slice(0, 23) + "…" : row.label;
    tip(name, `${row.label}: ${data.documents[row.i].toLocaleString()} documents; click to order the topics by this label's shares`);
    name.addEventListener("click", () => redraw({sortLabel: state.sortLabel === row.i ? null : row.i}));
    cols.forEach((k, c) => {
      const share = data.shares[row.i][k];
      const rect = el("rect", {x: left + c * cell, y, width: cell - 1, height: cell - 1, class: "cell",
        fill: "#1f77b4", "fill-opacity": (0.04 + 0.96 * share / max).toFixed(3),
        "data-label": row.label, "data-topic": k, "data-share": share}, svg);
      tip(rect, `${row.label} × ${topicName(data.topics[k])}: mean share ${pct(share)}; dominant topic of ` +
        `${data.dominant[row.i][k].toLocaleString()} of ${data.documents[row.i].toLocaleString()} documents`);
    });
  });
  const old = box.querySelector("svg.heatmap");
  if (old) { old.replaceWith(svg); } else { box.appendChild(svg); }

  function redraw(change) { drawHeatmap(box, data, Object.assign(state, change)); }
}

// -- time chart: one line per topic (or stacked areas), the document count as a band --------
export function drawTimeChart(box, data, state) {
  const P = data.periods.length, K = data.topics.length;
  const W = 860, left = 50, right = 20, top = 10, H = 260, band = 50, gap = 24;
  const height = top + H + gap + band + 30;
  const t0 = Date.parse(data.starts[0]), t1 = Date.parse(data.starts[P - 1]);
  const x = (i) => P === 1 ? left + (W - left - right) / 2 : left + (W - left - right) * (Date.parse(data.starts[i]) - t0) / (t1 - t0);
  const stacked = state.stacked;
  const ymax = stacked ? 1 : Math.min(1, Math.ceil(Math.max(1e-9, ...data.shares.flat()) * 20) / 20);
  const y = (v) => top + H - H * v / ymax;
  const svg = el("svg", {width: W, height, viewBox: `0 0 ${W} ${height}`, class: "timechart",
    role: "img", "aria-label": "mean topic share per " + data.period});
  // axes
  el("line", {x1: left, x2: W - right, y1: top + H, y2: top + H, class: "axis"}, svg);
  el("line", {x1: left, x2: left, y1: top, y2: top + H, class: "axis"}, svg);
  for (let i = 0; i <= 4; i++) {
    const v = ymax * i / 4;
    el("text", {x: left - 6, y: y(v) + 4, "text-anchor": "end", class: "tick"}, svg).textContent = pct(v);
  }
  let lastTick = -Infinity;
  for (let i = 0; i < P; i++) {
    if (x(i) - lastTick < 80) { continue; }      // labels never overlap
    lastTick = x(i);
    const anchor = x(i) > W - right - 40 ? "end" : "middle";
    el("text", {x: x(i), y: top + H + gap + band + 18, "text-anchor": anchor, class: "tick"}, svg).textContent = data.periods[i];
  }
  // series
  const order = [...Array(K).keys()];
  const base = new Array(P).fill(0);
  order.forEach((k) => {
    const hi = state.highlight === k, dim = state.highlight !== null && !hi;
    let pathD;
    if (stacked) {
      const upper = data.shares.map((row, i) => base[i] + row[k]);
      pathD = upper.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("") +
        base.map((v, i) => `L${x(P - 1 - i).toFixed(1)},${y(base[P - 1 - i]).toFixed(1)}`).join("") + "Z";
      upper.forEach((v, i) => { base[i] = v; });
    } else {
      pathD = data.shares.map((row, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(row[k]).toFixed(1)}`).join("");
    }
    const path = el("path", {d: pathD, class: "series" + (hi ? " highlighted" : "") + (dim ? " dimmed" : ""),
      "data-topic": k}, svg);
    // Through the style object: pyLDAvis's stylesheet sets "path { stroke: none }", which
    // beats presentation attributes; CSSOM styles are allowed by the CSP.
    path.style.stroke = colour(k);
    path.style.fill = stacked ? colour(k) : "none";
    path.style.fillOpacity = stacked ? "0.75" : "0";
    tip(path, topicName(data.topics[k]) + ": " + data.topics[k].terms.join(", "));
    path.addEventListener("click", () => redraw({highlight: state.highlight === k ? null : k}));
  });
  // the number of documents per period, as a band under the chart
  const maxDocs = Math.max(1, ...data.documents);
  const bandTop = top + H + gap;
  const barW = Math.max(1, Math.min(18, (W - left - right) / Math.max(P, 1) * 0.8));
  data.documents.forEach((n, i) => {
    const h = band * n / maxDocs;
    tip(el("rect", {x: x(i) - barW / 2, y: bandTop + band - h, width: barW, height: h, class: "docs-bar"}, svg),
      `${data.periods[i]}: ${n.toLocaleString()} documents`);
  });
  el("text", {x: left - 6, y: bandTop + band / 2, "text-anchor": "end", class: "tick"}, svg).textContent = "docs";
  // hover: the period under the pointer, in the caption
  const caption = box.querySelector(".chart-caption");
  svg.addEventListener("mousemove", (ev) => {
    const rect = svg.getBoundingClientRect();
    const px = (ev.clientX - rect.left) * W / rect.width;
    let best = 0;
    for (let i = 1; i < P; i++) { if (Math.abs(x(i) - px) < Math.abs(x(best) - px)) { best = i; } }
    const k = state.highlight;
    caption.textContent = `${data.periods[best]}: ${data.documents[best].toLocaleString()} documents` +
      (k !== null ? `, ${topicName(data.topics[k])} ${pct(data.shares[best][k])}` :
        "; heaviest: " + topicName(data.topics[argmax(data.shares[best])]) + " " + pct(Math.max(...data.shares[best])));
  });
  const old = box.querySelector("svg.timechart");
  if (old) { old.replaceWith(svg); } else { box.querySelector(".chart-area").appendChild(svg); }

  function redraw(change) {
    Object.assign(state, change);
    const select = box.querySelector("select.highlight");
    if (select) { select.value = state.highlight === null ? "" : String(state.highlight); }
    drawTimeChart(box, data, state);
  }
}

function argmax(row) { return row.reduce((best, v, i) => (v > row[best] ? i : best), 0); }

function initHeatmap() {
  const box = document.getElementById("by-label");
  if (!box) { return; }
  getPrepared(box.dataset.api, () => note(box, "preparing the topics by label …"))
    .then((data) => {
      note(box, `Mean topic share of the documents of each label (darker: larger, up to ${pct(Math.max(...data.shares.flat()))}). ` +
        "Hover a cell for the share and the documents it dominates; click a topic to sort the labels, a label to sort the topics." +
        (data.unlabelled ? ` ${data.unlabelled.toLocaleString()} documents without a label are left out.` : ""));
      drawHeatmap(box, data, {sortTopic: null, sortLabel: null, dir: 1});
    })
    .catch((e) => note(box, e.message, "error"));
}

function initTimeChart() {
  const box = document.getElementById("over-time");
  if (!box) { return; }
  const periodSelect = box.querySelector("select.period");
  const highlight = box.querySelector("select.highlight");
  const stacked = box.querySelector("input.stacked");
  const state = {highlight: null, stacked: false};
  let data = null;
  function load(period) {
    const url = box.dataset.api + (period ? "?period=" + encodeURIComponent(period) : "");
    getPrepared(url, () => note(box, "preparing the topics over time …")).then((d) => {
      data = d;
      periodSelect.value = d.period;
      if (highlight.options.length <= 1) {
        d.topics.forEach((t) => {
          const o = document.createElement("option");
          o.value = String(t.topic);
          o.textContent = topicName(t) + (t.label ? "" : ": " + t.terms.join(" "));
          highlight.appendChild(o);
        });
      }
      note(box, `Mean topic share per ${d.period} (${d.periods.length} ${d.period}s with documents, ` +
        `${d.span[0]} to ${d.span[1]}); the bars below count the documents of each ${d.period}.` +
        (d.undated ? ` ${d.undated.toLocaleString()} documents without a date are left out.` : ""));
      drawTimeChart(box, d, state);
    }).catch((e) => { note(box, e.message, "error"); box.querySelector(".chart-controls").hidden = true; });
  }
  periodSelect.addEventListener("change", () => load(periodSelect.value));
  highlight.addEventListener("change", () => {
    state.highlight = highlight.value === "" ? null : Number(highlight.value);
    if (data) { drawTimeChart(box, data, state); }
  });
  stacked.addEventListener("change", () => { state.stacked = stacked.checked; if (data) { drawTimeChart(box, data, state); } });
  load(null);
}

// -- choosing K: each figure against the number of topics, one small chart each ------------
const FIGURES = [
  ["topic_quality", "topic quality", "c_npmi × diversity; larger is better. The recommended K maximises it."],
  ["c_npmi", "c_npmi", "mean normalised PMI of each topic's top 10 words in the corpus, -1..1; larger: more coherent topics"],
  ["u_mass", "u_mass", "mean u_mass coherence, below 0; nearer 0: top words occur together more often"],
  ["log_perplexity", "perplexity bound", "per-word log likelihood bound on the first 5,000 documents; larger (nearer 0) fits better"],
  ["topic_diversity", "topic diversity", "share of unique words among all topics' top 25, 0..1; 1: no two topics share a top word"],
  ["nmi_labels", "NMI with labels", "agreement of dominant topics with the documents' labels, 0..1; larger agrees more"],
];

export function drawSweep(box, sweep) {
  const W = 230, H = 150, left = 48, bottom = 26, top = 22;
  const wrap = document.createElement("div");
  wrap.className = "sweep";
  const rec = sweep.recommended;
  const head = document.createElement("p");
  head.className = "chart-note";
  head.textContent = `Sweep over K = ${sweep.models.map((m) => m.num_topics).join(", ")}` +
    (rec ? `; recommended K = ${rec.num_topics} (model ${rec.model_id}): ${sweep.rule}.` : ".");
  wrap.appendChild(head);
  const ks = sweep.models.map((m) => m.num_topics);
  const kmin = Math.min(...ks), kmax = Math.max(...ks);
  const x = (k) => kmax === kmin ? left + (W - left - 10) / 2 : left + (W - left - 10) * (k - kmin) / (kmax - kmin);
  FIGURES.forEach(([key, name, help]) => {
    const pts = sweep.models.filter((m) => m[key] !== null && m[key] !== undefined);
    if (!pts.length) { return; }
    const vs = pts.map((m) => m[key]);
    let lo = Math.min(...vs), hi = Math.max(...vs);
    if (hi === lo) { lo -= 0.5 * Math.abs(lo || 1); hi += 0.5 * Math.abs(hi || 1); }
    const y = (v) => top + (H - top - bottom) * (hi - v) / (hi - lo);
    const svg = el("svg", {width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: "sweep-chart", "data-figure": key});
    tip(el("text", {x: left, y: 14, class: "figure-name"}, svg), help).textContent = name;
    el("line", {x1: left, x2: W - 10, y1: H - bottom, y2: H - bottom, class: "axis"}, svg);
    [lo, hi].forEach((v) => {
      el("text", {x: left - 4, y: y(v) + 4, "text-anchor": "end", class: "tick"}, svg).textContent = Number(v.toPrecision(3));
    });
    ks.forEach((k) => { el("text", {x: x(k), y: H - 8, "text-anchor": "middle", class: "tick"}, svg).textContent = k; });
    if (rec) {
      el("line", {x1: x(rec.num_topics), x2: x(rec.num_topics), y1: top, y2: H - bottom, class: "recommended"}, svg);
    }
    const line = el("path", {class: "series", d: pts.map((m, i) => `${i ? "L" : "M"}${x(m.num_topics)},${y(m[key])}`).join("")}, svg);
    line.style.stroke = colour(0);
    line.style.fill = "none";
    pts.forEach((m) => {
      const a = el("a", {href: "/models/" + m.model_id + "/topics"}, svg);
      const c = el("circle", {cx: x(m.num_topics), cy: y(m[key]), r: 4.5, class: "point", "data-k": m.num_topics}, a);
      tip(c, `K = ${m.num_topics} (model ${m.model_id}): ${name} ${m[key]}; click to open its topics`);
    });
    wrap.appendChild(svg);
  });
  box.appendChild(wrap);
}

function initSweeps() {
  const box = document.getElementById("sweeps");
  if (!box) { return; }
  getPrepared(box.dataset.api, () => {}).then((sweeps) => {
    if (!sweeps.length) { return; }
    box.querySelector(".chart-note").textContent = "Each figure of the models of a sweep against their number of " +
      "topics K; hover a name for what it measures, click a point to open that model.";
    sweeps.forEach((s) => drawSweep(box, s));
  }).catch((e) => note(box, e.message, "error"));
}

initHeatmap();
initTimeChart();
initSweeps();
