// Draws pyLDAvis from the model's stored data, fetched as JSON (never inlined in the page).
document.addEventListener("DOMContentLoaded", function () {
  var el = document.getElementById("ldavis");
  fetch(el.dataset.src).then(function (r) { return r.json(); }).then(function (data) {
    new LDAvis("#ldavis", data);
  });
});
