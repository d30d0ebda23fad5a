// textlatent's pages: forms that call the JSON API, live job progress, tooltips.
// Everything a user or the corpus wrote is inserted as text (textContent), never as HTML.
// Page scripts (static/js/*.js, ES modules) use what this file puts on window.textlatent:
//   api(url, options) -> Promise of the JSON body (rejects with e.message, e.body)
//   say(form, text, isError)   the form's <output class="form-result">
//   follow(job, onUpdate, onEnd)   poll a job until it ends
//   duration(seconds) -> "3 min 20 s";  topicName(k, labels) -> "3 · hockey"
//   showFieldErrors(form, error) -> marks the fields an API error names; true if any
"use strict";

var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
var ENDED = ["finished", "failed", "cancelled"];

function api(url, options) {
  options = options || {};
  options.headers = Object.assign({"X-CSRF-Token": CSRF, "Accept": "application/json"}, options.headers || {});
  options.credentials = "same-origin";
  return fetch(url, options).then(function (r) {
    if (r.status === 204) { return null; }
    return r.json().catch(function () { return {error: {message: "the server answered " + r.status}}; })
      .then(function (body) {
        if (!r.ok) {
          var e = new Error((body.error && body.error.message) || ("HTTP " + r.status));
          e.body = body; throw e;
        }
        return body;
      });
  });
}

function say(form, text, isError) {
  var out = form.querySelector(".form-result") || form.parentNode.querySelector(".form-result");
  if (!out) { return; }
  out.textContent = text;
  out.className = "form-result" + (isError ? " error" : "");
}

function duration(seconds) {
  if (seconds === null || seconds === undefined || isNaN(seconds)) { return ""; }
  var s = Math.max(0, Math.round(seconds));
  if (seconds < 10) { return Math.max(0, seconds).toFixed(1) + " s"; }
  if (s < 60) { return s + " s"; }
  if (s < 3600) { return Math.floor(s / 60) + " min " + String(s % 60).padStart(2, "0") + " s"; }
  return Math.floor(s / 3600) + " h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + " min";
}

function topicName(k, labels) {
  var label = labels && labels[String(k)];
  return label ? k + " · " + label : String(k);
}

function jobText(job) {
  var p = job.progress || {};
  var pct = p.fraction !== null && p.fraction !== undefined ? " " + Math.round(p.fraction * 100) + "%" : "";
  return "job " + job.id + " " + job.status + pct + ": " + (job.error || p.message || "");
}

// Poll one job until it ends; onEnd(job) then.
function follow(job, onUpdate, onEnd) {
  onUpdate(job);
  if (ENDED.indexOf(job.status) >= 0) { onEnd(job); return; }
  setTimeout(function () {
    api(job.url).then(function (j) { follow(j, onUpdate, onEnd); })
      .catch(function () { setTimeout(function () { follow(job, onUpdate, onEnd); }, 2000); });
  }, 700);
}

// -- errors in the form's own words ------------------------------------------------------------
// An API error names parameters by their API names (num_topics, text_field); on a form they
// are the fields with those names: the message goes beside the field, under its label.
function fieldLabel(form, name) {
  var el = form.elements[name];
  var label = el && el.id ? form.querySelector('label[for="' + el.id + '"]') : null;
  return label ? label.firstChild.textContent.trim() : name;
}

function clearFieldErrors(form) {
  form.querySelectorAll(".field-error").forEach(function (s) { s.textContent = ""; });
  form.querySelectorAll('[aria-invalid="true"]').forEach(function (el) { el.removeAttribute("aria-invalid"); });
}

function markField(form, name, text) {
  var el = form.elements[name];
  var slot = form.querySelector('.field-error[data-for="' + name + '"]');
  if (!el || !slot) { return false; }
  if (el.setAttribute) { el.setAttribute("aria-invalid", "true"); }
  var details = slot.closest("details");
  if (details) { details.open = true; }
  slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + text;
  return true;
}

function showFieldErrors(form, error) {
  clearFieldErrors(form);
  var details = (error.body && error.body.error && error.body.error.details) || {};
  var marked = 0, first = null;
  (details.problems || []).forEach(function (problem) {
    var name = (problem.match(/^(?:unknown parameter ')?([a-z_0-9]+)/) || [])[1];
    if (name && form.elements[name]) {
      var text = problem.indexOf(name) === 0 ? fieldLabel(form, name) + problem.slice(name.length) : problem;
      if (markField(form, name, text)) { marked++; first = first || name; }
    }
  });
  if (details.field && form.elements[details.field] && markField(form, details.field, error.message)) {
    marked++; first = first || details.field;
  }
  if (first && form.elements[first].focus) { form.elements[first].focus(); }
  return marked > 0;
}

// -- tooltips: any [data-tip] element, on hover or keyboard focus --------------------------
function initTooltips() {
  var box = document.getElementById("tooltip");
  if (!box) { return; }
  var owner = null;
  function show(el) {
    owner = el;
    box.textContent = el.getAttribute("data-tip");
    box.hidden = false;
    var r = el.getBoundingClientRect(), b = box.getBoundingClientRect();
    var left = Math.min(Math.max(8, r.left + r.width / 2 - b.width / 2), window.innerWidth - b.width - 8);
    var top = r.bottom + 8;
    if (top + b.height > window.innerHeight - 8) { top = Math.max(8, r.top - b.height - 8); }
    box.style.left = left + "px";
    box.style.top = top + "px";
    el.setAttribute("aria-describedby", "tooltip");
  }
  function hide(el) {
    if (el && el !== owner) { return; }
    if (owner) { owner.removeAttribute("aria-describedby"); }
    owner = null;
    box.hidden = true;
  }
  document.addEventListener("mouseover", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-tip]");
    if (el && el !== owner) { show(el); } else if (!el && owner) { hide(); }
  });
  document.addEventListener("focusin", function (ev) {
    var el = ev.target.closest && ev.target.closest("[data-tip]");
    if (el) { show(el); }
  });
  document.addEventListener("focusout", function (ev) { hide(ev.target); });
  document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { hide(); } });
  window.addEventListener("scroll", function () { hide(); }, {passive: true});
}

// -- upload (index page) ---------------------------------------------------------------------
function initUpload() {
  var form = document.getElementById("upload");
  if (!form) { return; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearFieldErrors(form);
    var missing = false;
    [["name", "give the corpus a name"], ["file", "choose one or more files"]].forEach(function (f) {
      var el = form.elements[f[0]];
      if (!el.value.trim()) { markField(form, f[0], f[1]); missing = true; }
    });
    if (missing) { say(form, "Fill in the marked fields.", true); return; }
    var data = new FormData(form);
    var button = form.querySelector("button");
    button.disabled = true;
    say(form, "uploading and checking the files …");
    api(form.dataset.api, {method: "POST", body: data}).then(function (job) {
      follow(job, function (j) { say(form, jobText(j)); }, function (j) {
        button.disabled = false;
        if (j.status === "finished") {
          window.location.href = "/corpora/" + encodeURIComponent(j.corpus);
        } else {
          say(form, jobText(j), true);
        }
      });
    }).catch(function (e) {
      button.disabled = false;
      say(form, showFieldErrors(form, e) ? "The upload was refused: see the marked field." : e.message, true);
    });
  });
}

// -- job tables: live progress, elapsed time, an estimate; cancel and retry -------------------
// The estimate comes from the rate the current step's fraction has moved since this page
// first saw it; a job's steps each count from 0 to 1, so a new step starts a new estimate.
var seen = {};

function estimate(job, now) {
  var f = job.progress.fraction;
  var s = seen[job.id];
  if (job.status !== "running" || f === null || f === undefined) { delete seen[job.id]; return ""; }
  if (!s || f < s.f0 || job.progress.total !== s.total) {
    seen[job.id] = {t0: now, f0: f, total: job.progress.total};
    return "";
  }
  var dt = (now - s.t0) / 1000, df = f - s.f0;
  if (dt < 2 || df <= 0.005) { return ""; }
  return "about " + duration((1 - f) * dt / df) + " left";
}

function updateJobRow(row, j) {
  row.dataset.status = j.status;
  var badge = row.querySelector(".status");
  badge.textContent = j.status;
  badge.className = "badge badge-" + j.status + " status";
  var bar = row.querySelector("progress");
  bar.dataset.status = j.status;
  var f = j.progress.fraction;
  if (j.status === "finished") { f = 1; } else if (ENDED.indexOf(j.status) >= 0 || j.status === "pending") { f = 0; }
  if (f !== null && f !== undefined) { bar.value = f; } else { bar.removeAttribute("value"); }
  var message = j.progress.message === j.status ? "" : (j.progress.message || "");
  row.querySelector(".message").textContent = message + (j.error ? (message ? ": " : "") + j.error : "");
  row.querySelector(".elapsed").textContent = duration(j.elapsed_seconds);
  var est = estimate(j, Date.now());
  var cell = row.querySelector(".estimate");
  cell.textContent = est;
  if (est) {
    cell.setAttribute("data-tip", "Estimated from how fast the current step has moved since this page " +
                      "opened; the steps after it (for LDA: coherence, pyLDAvis data) are not counted.");
  }
}

function initJobs() {
  document.querySelectorAll("table.jobs").forEach(function (table) {
    var active = function () {
      return table.querySelector('tr[data-status="pending"], tr[data-status="running"]') !== null;
    };
    function poll() {
      if (!active() || !table.dataset.api) { return; }
      api(table.dataset.api).then(function (list) {
        var reload = false;
        list.forEach(function (j) {
          var row = table.querySelector('tr[data-job="' + j.id + '"]');
          if (!row) { reload = reload || ENDED.indexOf(j.status) < 0; return; }
          // An ended job brings its model link and summary, which the server renders.
          if (row.dataset.status !== j.status && ENDED.indexOf(j.status) >= 0) { reload = true; }
          updateJobRow(row, j);
        });
        if (reload) { window.location.reload(); } else { setTimeout(poll, 1000); }
      }).catch(function () { setTimeout(poll, 3000); });
    }
    poll();
    table.addEventListener("click", function (ev) {
      var b = ev.target.closest("button.cancel, button.retry");
      if (!b) { return; }
      b.disabled = true;
      api(b.dataset.api, {method: "POST"}).then(function () { window.location.reload(); })
        .catch(function (e) { b.disabled = false; alert(e.message); });
    });
  });
}

// -- training forms (corpus page): only the fields a person changed are sent --------------------
function changed(el) {
  if (el.tagName === "SELECT") {
    return Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; });
  }
  return el.value.trim() !== el.defaultValue.trim();
}

function initTraining() {
  document.querySelectorAll("form.train-form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearFieldErrors(form);
      var params = {};
      form.querySelectorAll("input[name], select[name]").forEach(function (el) {
        if (el.value.trim() !== "" && changed(el)) { params[el.name] = el.value.trim(); }
      });
      var button = form.querySelector("button");
      button.disabled = true;
      api(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify({kind: form.dataset.kind, params: params})})
        .then(function () { window.location.reload(); })
        .catch(function (e) {
          button.disabled = false;
          say(form, showFieldErrors(form, e) ? "Nothing was queued: see the marked fields." : e.message, true);
        });
    });
  });
  var del = document.querySelector("button.delete-corpus");
  if (del) {
    del.addEventListener("click", function () {
      if (!window.confirm("Delete this corpus, its documents and its models?")) { return; }
      api(del.dataset.api, {method: "DELETE"}).then(function () { window.location.href = del.dataset.then; })
        .catch(function (e) { say(del.parentNode, e.message, true); });
    });
  }
}

// -- model selectors: choosing a model opens its page ------------------------------------------
function initModelSelect() {
  document.querySelectorAll("select[data-navigate]").forEach(function (sel) {
    sel.addEventListener("change", function () {
      var url = sel.selectedOptions[0] && sel.selectedOptions[0].dataset.url;
      if (url) { window.location.href = url; }
    });
  });
}

// -- topics page: labels and top documents (the map is static/js/topics.js) -------------------
function initTopics() {
  var labels = document.getElementById("labels");
  if (labels) {
    labels.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      labels.querySelectorAll("input[name]").forEach(function (el) { body[el.name] = el.value; });
      api(labels.dataset.api, {method: "PUT", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify({labels: body})})
        .then(function (saved) {
          say(labels, "saved");
          labels.dispatchEvent(new CustomEvent("labels-saved", {detail: saved.labels, bubbles: true}));
        })
        .catch(function (e) { say(labels, e.message, true); });
    });
  }
  document.querySelectorAll("details.top-docs").forEach(function (d) {
    var shown = 10;
    var list = d.querySelector("ol");
    var more = document.createElement("button");
    more.type = "button";
    more.textContent = "more";
    // The list is fetched again, longer: the server keeps the documents in weight order.
    function load() {
      api(d.dataset.api + "?limit=" + shown).then(function (docs) {
        list.textContent = "";
        docs.forEach(function (doc) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = d.dataset.doc + doc.position;
          a.textContent = doc.title || doc.doc_key;
          li.appendChild(a);
          li.appendChild(document.createTextNode(" (" + doc.weight.toFixed(3) + (doc.label ? ", " + doc.label : "") +
                                                 (doc.date ? ", " + doc.date : "") + ")"));
          if (doc.snippet) {
            var s = document.createElement("div");
            s.className = "snippet";
            s.textContent = doc.snippet;
            li.appendChild(s);
          }
          list.appendChild(li);
        });
        if (docs.length >= shown && shown < 1000) { d.appendChild(more); } else if (more.parentNode) { more.remove(); }
      }).catch(function (e) { list.textContent = e.message; });
    }
    more.addEventListener("click", function () { shown = Math.min(1000, shown * 2 + 10); load(); });
    d.addEventListener("toggle", function () {
      if (!d.open || d.dataset.loaded) { return; }
      d.dataset.loaded = "1";
      load();
    });
  });
}

// -- similar words page ------------------------------------------------------------------------
function initWords() {
  var out = document.getElementById("results");
  document.querySelectorAll("form.word-form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = new URLSearchParams();
      ["word", "negative"].forEach(function (field) {
        if (!form.elements[field]) { return; }
        // Commas separate query words; spaces stay, so "new york" reaches the corpus's phrases.
        form.elements[field].value.split(",").map(function (w) { return w.trim(); }).filter(Boolean)
          .forEach(function (w) { q.append(field, w); });
      });
      if (form.elements.topn) { q.append("topn", form.elements.topn.value); }
      var model = document.getElementById("model-select");
      if (model && model.value) { q.append("model", model.value); }
      api(form.dataset.api + "?" + q.toString()).then(function (d) {
        out.textContent = "";
        var h = document.createElement("p");
        h.className = "muted";
        var t = d.terms || {positive: d.positive, negative: d.negative};
        h.textContent = t.positive.join(" + ") + (t.negative.length ? " − " + t.negative.join(" − ") : "") +
          " (model " + d.model_id + "), cosine similarity:";
        out.appendChild(h);
        var table = document.createElement("table");
        table.className = "neighbours";
        var body = table.createTBody();
        d.results.forEach(function (row) {
          var tr = body.insertRow();
          tr.insertCell().textContent = row[0];
          var sim = tr.insertCell();
          sim.className = "num";
          sim.textContent = row[1].toFixed(3);
          var cell = tr.insertCell();
          cell.className = "sim-bar";
          var bar = document.createElement("div");
          bar.className = "bar";
          var fill = document.createElement("span");
          fill.style.width = Math.max(0, row[1] * 100).toFixed(1) + "%";
          bar.appendChild(fill);
          cell.appendChild(bar);
        });
        out.appendChild(table);
      }).catch(function (e) {
        out.textContent = "";
        var p = document.createElement("p");
        p.className = "error";
        p.textContent = e.message;
        out.appendChild(p);
        var s = e.body && e.body.error && e.body.error.details && e.body.error.details.suggestions;
        if (s) {
          Object.keys(s).forEach(function (w) {
            s[w].forEach(function (alt) {
              var b = document.createElement("button");
              b.type = "button";
              b.className = "suggestion btn-small";
              b.textContent = alt;
              b.addEventListener("click", function () {
                form.elements.word.value = form.elements.word.value.replace(w, alt);
                form.requestSubmit();
              });
              out.appendChild(b);
            });
          });
        }
      });
    });
  });
}

window.textlatent = {api: api, say: say, follow: follow, duration: duration, topicName: topicName,
                     showFieldErrors: showFieldErrors};

document.addEventListener("DOMContentLoaded", function () {
  initTooltips(); initUpload(); initJobs(); initTraining(); initModelSelect(); initTopics(); initWords();
});
