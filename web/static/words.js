// Similar-word search over the JSON API; results are inserted as text, never as HTML.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("similar");
  var out = document.getElementById("results");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = new URLSearchParams();
    form.word.value.split(/[\s,]+/).filter(Boolean).forEach(function (w) { q.append("word", w); });
    form.negative.value.split(/[\s,]+/).filter(Boolean).forEach(function (w) { q.append("negative", w); });
    fetch(form.dataset.api + "?" + q.toString()).then(function (r) { return r.json(); }).then(function (d) {
      out.textContent = "";
      if (d.error) { out.textContent = d.error.message; return; }
      var table = document.createElement("table");
      d.results.forEach(function (row) {
        var tr = table.insertRow();
        tr.insertCell().textContent = row[0];
        tr.insertCell().textContent = row[1].toFixed(3);
      });
      out.appendChild(table);
    });
  });
});
