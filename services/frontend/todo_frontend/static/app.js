// Progressive enhancement only: every control is a plain form that works without
// this script. With it, marking an item complete updates in place (no reload).
(function () {
  "use strict";

  function applyToggle(item, form, completed) {
    item.classList.toggle("completed", completed);
    form.querySelector("input[name=completed]").value = completed ? "false" : "true";
    var button = form.querySelector(".toggle");
    var name = item.querySelector(".name").textContent;
    button.setAttribute("aria-pressed", completed ? "true" : "false");
    button.title = completed ? "Mark as not complete" : "Mark as complete";
    button.querySelector(".visually-hidden").textContent = (completed ? "Completed: " : "Not complete: ") + name;
    item.querySelector(".status").textContent = completed ? "Completed" : "Not complete";
  }

  // The counter, "Clear completed" and "Mark all" depend on every item: take them
  // from a fresh render of this page (read-your-writes makes it current).
  function refreshSummary() {
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        [".bulk", ".list-footer", ".todo-list .empty"].forEach(function (selector) {
          var now = document.querySelector(selector);
          var next = fresh.querySelector(selector);
          if (now && next) now.replaceWith(next);
          else if (now) now.remove();
          else if (next && selector === ".bulk") document.querySelector(".todo-list").before(next);
          else if (next && selector === ".todo-list .empty") document.querySelector(".todo-list").append(next);
        });
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var button = event.submitter;
    // Only the toggle is enhanced; delete (formaction) and the rest submit as usual.
    if (!form.classList || !form.classList.contains("item-form") || !window.fetch) return;
    if (!button || !button.classList.contains("toggle")) return;
    event.preventDefault();
    var item = form.closest(".todo");
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    }).then(function (data) {
      var completed = data.todo.completed === true;
      applyToggle(item, form, completed);
      var filter = new URLSearchParams(window.location.search).get("status");
      if ((filter === "active" && completed) || (filter === "completed" && !completed)) item.remove();
      return refreshSummary();
    }).catch(function () {
      form.submit();  // let the server render the outcome, errors included
    });
  });
})();
