// textlatent's pages: forms that call the JSON API, live job progress, pyLDAvis.
// Everything a user or the corpus wrote is inserted as text (textContent), never as HTML.
"use strict";

var CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

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

function jobText(job) {
  var p = job.progress || {};
  var pct = p.fraction !== null && p.fraction !== undefined ? " " + Math.round(p.fraction * 100) + "%" : "";
  return "job " + job.id + " " + job.status + pct + ": " + (job.error || p.message || "");
}

// Poll one job until it ends; onEnd(job) then.
function follow(job, onUpdate, onEnd) {
  onUpdate(job);
  if (job.status === "finished" || job.status === "failed" || job.status === "cancelled") {
    onEnd(job); return;
  }
  setTimeout(function () {
    api(job.url).then(function (j) { follow(j, onUpdate, onEnd); })
      .catch(function () { setTimeout(function () { follow(job, onUpdate, onEnd); }, 2000); });
  }, 700);
}

// -- upload (index page) ---------------------------------------------------------------------
function initUpload() {
  var form = document.getElementById("upload");
  if (!form) { return; }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
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
    }).catch(function (e) { button.disabled = false; say(form, e.message, true); });
  });
}

// -- jobs table, training, cancel, retry, delete (corpus page) ------------------------------
function initJobs() {
  var table = document.getElementById("jobs");
  if (!table) { return; }
  var active = function () {
    return table.querySelector('tr[data-status="pending"], tr[data-status="running"]') !== null;
  };
  function poll() {
    if (!active()) { return; }
    api(table.dataset.api).then(function (list) {
      var reload = false;
      list.forEach(function (j) {
        var row = table.querySelector('tr[data-job="' + j.id + '"]');
        if (!row) { reload = true; return; }
        if (row.dataset.status !== j.status && j.status === "finished") { reload = true; }
        row.dataset.status = j.status;
        row.querySelector(".status").textContent = j.status;
        var bar = row.querySelector("progress");
        if (j.progress.fraction !== null) { bar.value = j.progress.fraction; } else { bar.removeAttribute("value"); }
        row.querySelector(".message").textContent = (j.progress.message || "") + (j.error ? ": " + j.error : "");
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
}

function initTraining() {
  document.querySelectorAll("form.train-form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var params = {};
      form.querySelectorAll("input[name], select[name]").forEach(function (el) {
        if (el.value.trim() !== "") { params[el.name] = el.value.trim(); }
      });
      api(form.dataset.api, {method: "POST", headers: {"Content-Type": "application/json"},
                              body: JSON.stringify({kind: form.dataset.kind, params: params})})
        .then(function () { window.location.reload(); })
        .catch(function (e) { say(form, e.message, true); });
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

// -- topics page -------------------------------------------------------------------------------
function initTopics() {
  var vis = document.getElementById("ldavis");
  if (vis) {
    // The prepared data is fetched as JSON (never inlined in a script block).
    api(vis.dataset.src).then(function (data) { new LDAvis("#ldavis", data); })
      .catch(function (e) { vis.textContent = "pyLDAvis could not load: " + e.message; });
  }
  var labels = document.getElementById("labels");
  if (labels) {
    labels.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = {};
      labels.querySelectorAll("input[name]").forEach(function (el) { body[el.name] = el.value; });
      api(labels.dataset.api, {method: "PUT", headers: {"Content-Type": "application/json"},
                               body: JSON.stringify({labels: body})})
        .then(function () { say(labels, "saved"); })
        .catch(function (e) { say(labels, e.message, true); });
    });
  }
  document.querySelectorAll("details.top-docs").forEach(function (d) {
    d.addEventListener("toggle", function () {
      if (!d.open || d.dataset.loaded) { return; }
      d.dataset.loaded = "1";
      var list = d.querySelector("ol");
      api(d.dataset.api + "?limit=10").then(function (docs) {
        docs.forEach(function (doc) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = d.dataset.doc + doc.position;
          a.textContent = doc.title || doc.doc_key;
          li.appendChild(a);
          li.appendChild(document.createTextNode(" (" + doc.weight.toFixed(3) + (doc.label ? ", " + doc.label : "") + ")"));
          list.appendChild(li);
        });
      }).catch(function (e) { list.textContent = e.message; });
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
        form.elements[field].value.split(/[\s,]+/).filter(Boolean).forEach(function (w) { q.append(field, w); });
      });
      if (form.elements.topn) { q.append("topn", form.elements.topn.value); }
      api(form.dataset.api + "?" + q.toString()).then(function (d) {
        out.textContent = "";
        var h = document.createElement("p");
        h.textContent = d.positive.join(" + ") + (d.negative.length ? " − " + d.negative.join(" − ") : "") +
          " (model " + d.model_id + "), cosine similarity:";
        out.appendChild(h);
        var table = document.createElement("table");
        table.className = "neighbours";
        d.results.forEach(function (row) {
          var tr = table.insertRow();
          tr.insertCell().textContent = row[0];
          tr.insertCell().textContent = row[1].toFixed(3);
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
              b.className = "suggestion";
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

document.addEventListener("DOMContentLoaded", function () {
  initUpload(); initJobs(); initTraining(); initTopics(); initWords();
});
