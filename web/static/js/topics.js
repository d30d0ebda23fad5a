// The topics page around pyLDAvis, which is served unmodified from the installed package.
//
// pyLDAvis's script counts topics from 1 and treats 0 as "no topic selected", while our
// topics are the model's own, from 0: given 0-based data it cannot select topic 0 and its
// term hover resizes the wrong circles. So it is given the topics shifted by one, and
// everything it shows (circle numbers, the bar chart's title, the address's #topic=) is
// shifted back here, with the topic labels beside the numbers. Its own topic box is
// replaced by ours (#topic-picker), which drives its buttons.
const {api, say, topicName} = window.textlatent;

const vis = document.getElementById("ldavis");
let labels = vis ? JSON.parse(vis.dataset.labels || "{}") : {};
let K = 0;

function shifted(data) {
  data.mdsDat.topics = data.mdsDat.topics.map((t) => t + 1);
  data["token.table"].Topic = data["token.table"].Topic.map((t) => t + 1);
  data.tinfo.Category = data.tinfo.Category.map((c) => (c === "Default" ? c : "Topic" + (parseInt(c.slice(5), 10) + 1)));
  data["topic.order"] = data["topic.order"].map((t) => t + 1);
  return data;
}

// "#topic=3&..." in the address means the model's topic 3; pyLDAvis reads and writes its own 4.
function outside(url) {
  return url.replace(/#topic=(\d*)/, (m, n) => "#topic=" + (+n > 0 ? +n - 1 : ""));
}

function inside(hash) {
  return hash.replace(/^#topic=(\d*)/, (m, n) => "#topic=" + (n === "" ? 0 : +n + 1));
}

function translateAddress() {
  if (/^#topic=/.test(location.hash)) {
    history.replaceState(history.state, "", inside(location.hash));
  }
  for (const fn of ["replaceState", "pushState"]) {
    const original = history[fn].bind(history);
    history[fn] = (state, title, url) => original(state, title, typeof url === "string" ? outside(url) : url);
  }
}

const hidden = (suffix) => document.getElementById("ldavis-topic" + suffix);

function selected() {
  const v = parseInt(hidden("").value, 10);
  return v > 0 ? v - 1 : null;
}

// -- what pyLDAvis draws, in the model's numbers and with labels --------------------------------
function short(text, n) {
  return text.length > n ? text.slice(0, n - 1) + "…" : text;
}

function relabelCircles() {
  const svgNS = "http://www.w3.org/2000/svg";
  vis.querySelectorAll("circle.dot").forEach((circle) => {
    const d = circle.__data__;
    const k = d.topics - 1;
    let title = circle.querySelector("title");
    if (!title) {
      title = document.createElementNS(svgNS, "title");
      circle.appendChild(title);
    }
    title.textContent = "Topic " + topicName(k, labels) + ": " + (Math.round(d.Freq * 10) / 10) + "% of the words";
  });
  vis.querySelectorAll("text.txt").forEach((text) => {
    const k = text.__data__.topics - 1;
    text.textContent = String(k);
    const label = labels[String(k)];
    if (label) {
      const line = document.createElementNS(svgNS, "tspan");
      line.setAttribute("class", "circle-label");
      line.setAttribute("x", text.getAttribute("x"));
      line.setAttribute("dy", "1.15em");
      line.textContent = short(label, 18);
      text.appendChild(line);
    }
  });
}

const RAW_TITLE = /for Topic (\d+) \(([\d.]+)% of tokens\)$/;

function relabelTitle() {
  vis.querySelectorAll("text.bubble-tool").forEach((t) => {
    const m = RAW_TITLE.exec(t.textContent);
    if (m) {
      t.textContent = t.textContent.replace(RAW_TITLE, () =>
        "for topic " + topicName(+m[1] - 1, labels) + " (" + m[2] + "% of the words)");
    }
  });
}

// Circles near the edge of the map would be cut off (pyLDAvis places their centres, not their
// edges, inside the plot): pull the centres towards the middle until every circle fits.
function fitCircles() {
  const W = 530, H = 530, room = {left: 22, right: 8, top: 22, bottom: 8};
  const cx0 = W / 2, cy0 = H / 2;
  let s = 1;
  vis.querySelectorAll("circle.dot").forEach((c) => {
    const r = +c.getAttribute("r"), dx = +c.getAttribute("cx") - cx0, dy = +c.getAttribute("cy") - cy0;
    if (dx > 0) { s = Math.min(s, (W / 2 + room.right - r) / dx); }
    if (dx < 0) { s = Math.min(s, (W / 2 + room.left - r) / -dx); }
    if (dy > 0) { s = Math.min(s, (H / 2 + room.bottom - r) / dy); }
    if (dy < 0) { s = Math.min(s, (H / 2 + room.top - r) / -dy); }
  });
  s = Math.max(0.3, s);
  if (s >= 1) { return; }
  const move = (el, ax, ay, off) => {
    el.setAttribute(ax, cx0 + s * (+el.getAttribute(ax) - cx0));
    el.setAttribute(ay, cy0 + s * (+el.getAttribute(ay) - off - cy0) + off);
  };
  vis.querySelectorAll("circle.dot").forEach((c) => move(c, "cx", "cy", 0));
  vis.querySelectorAll("text.txt").forEach((t) => move(t, "x", "y", 4));
}

// The drawing scales to the page's width (from 1,000 px) instead of its fixed 1,210 px.
// Its empty margins are cut off, and circles that reach past its edges are kept in view.
function fitWidth() {
  const svg = vis.querySelector(":scope > svg");
  const b = svg.getBBox(), pad = 6;
  svg.setAttribute("viewBox", [b.x - pad, b.y - pad, b.width + 2 * pad, b.height + 2 * pad].join(" "));
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.classList.add("ldavis-main");
}

// -- our topic box -------------------------------------------------------------------------------
const box = document.getElementById("topic-box");
const boxLabel = document.getElementById("topic-box-label");

function syncBox() {
  const k = selected();
  if (document.activeElement !== box) { box.value = k === null ? "" : String(k); }
  boxLabel.textContent = k === null ? "none selected: hover or click a circle" : (labels[String(k)] || "no label yet");
  document.querySelectorAll("tr[data-topic]").forEach((tr) => tr.classList.toggle("selected", +tr.dataset.topic === k));
  const onMaps = document.getElementById("topic-on-maps");          // linked to the maps (static/js/maps.js)
  if (onMaps) {
    onMaps.hidden = k === null;
    if (k !== null) { onMaps.href = onMaps.dataset.base + k; }
  }
}

export function selectTopic(k) {
  const input = hidden("");
  if (k === null || k === "" || isNaN(k)) {
    hidden("-clear").click();
  } else {
    const v = Math.min(K - 1, Math.max(0, Math.round(+k)));
    input.value = String(v + 1);
    input.dispatchEvent(new KeyboardEvent("keyup", {bubbles: true}));
  }
  syncBox();
}

function initPicker() {
  document.getElementById("topic-picker").hidden = false;
  box.addEventListener("input", () => {
    if (box.value.trim() === "") { selectTopic(null); return; }
    const k = Number(box.value);
    if (Number.isInteger(k) && k >= 0 && k < K) { selectTopic(k); }
  });
  box.addEventListener("blur", syncBox);
  document.getElementById("topic-prev").addEventListener("click", () => {
    if (selected() !== 0) { hidden("-down").click(); }         // before 0 there is no topic, not "none"
    syncBox();
  });
  document.getElementById("topic-next").addEventListener("click", () => { hidden("-up").click(); syncBox(); });
  document.getElementById("topic-clear").addEventListener("click", () => selectTopic(null));
  // A circle's click stops there; listening while the event goes down sees it anyway.
  vis.addEventListener("click", () => setTimeout(syncBox, 0), true);
  // The λ slider goes beside our topic box; pyLDAvis's own box is hidden by topics.css.
  const lambda = document.getElementById("ldavis-lambdaInput");
  if (lambda) { document.getElementById("topic-picker").appendChild(lambda); }
  syncBox();
}

function initMap() {
  if (!vis || typeof LDAvis === "undefined") { return; }
  api(vis.dataset.src).then((data) => {
    K = data.mdsDat.topics.length;
    translateAddress();
    new LDAvis("#ldavis", shifted(data));
    history.replaceState(history.state, "", location.href);      // its reading of #topic=, back in ours
    fitCircles();
    relabelCircles();
    fitWidth();
    relabelTitle();
    new MutationObserver(relabelTitle).observe(vis.querySelector("svg.ldavis-main"), {childList: true, subtree: true});
    initPicker();
    vis.dataset.ready = "1";
  }).catch((e) => { vis.textContent = "pyLDAvis could not load: " + e.message; });
}

// -- labels saved in the table show at once on the map -------------------------------------------
document.addEventListener("labels-saved", (ev) => {
  labels = ev.detail || {};
  if (vis && vis.dataset.ready) { relabelCircles(); relabelTitle(); syncBox(); }
});

// -- topics of a new text ------------------------------------------------------------------------
function bars(container, rows) {
  container.textContent = "";
  const grid = document.createElement("div");
  grid.className = "bars";
  const top = rows.length ? rows[0][1] : 1;
  for (const [k, w] of rows) {
    const name = document.createElement("button");
    name.type = "button";
    name.className = "bar-label btn-quiet btn-small";
    name.textContent = topicName(k, labels);
    name.title = "show topic " + k + " on the map";
    name.addEventListener("click", () => { selectTopic(k); vis.scrollIntoView({behavior: "smooth", block: "start"}); });
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = (100 * w / top).toFixed(1) + "%";
    bar.appendChild(fill);
    const value = document.createElement("span");
    value.className = "bar-value";
    value.textContent = (100 * w).toFixed(1) + "%";
    grid.append(name, bar, value);
  }
  container.appendChild(grid);
}

function initInfer() {
  const form = document.getElementById("infer");
  if (!form) { return; }
  const out = document.getElementById("infer-result");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = form.elements.text.value;
    if (!text.trim()) { say(form, "Paste some text first.", true); return; }
    say(form, "…");
    api(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({text})})
      .then((r) => {
        say(form, r.terms_used.toLocaleString() + " of its " + r.terms_total.toLocaleString() +
                  " words are in the model's vocabulary");
        const shown = r.topics.filter(([, w], i) => i < 3 || w >= 0.05).slice(0, 10);
        bars(out, shown);
        out.dataset.topics = shown.map(([k]) => k).join(" ");
      })
      .catch((e) => { out.textContent = ""; say(form, e.message, true); });
  });
}

initMap();
initInfer();
