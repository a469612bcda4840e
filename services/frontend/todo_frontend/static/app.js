// Progressive enhancement only: every control is a plain form that works without
// this script. With it, marking an item complete updates in place (no reload).
(function () {
  "use strict";

  function updateCount(delta) {
    var strong = document.querySelector(".todo-count strong");
    if (!strong) return;
    var active = parseInt(strong.textContent, 10) + delta;
    strong.textContent = String(active);
    strong.nextSibling.textContent = active === 1 ? " item left" : " items left";
  }

  function applyToggle(item, form, completed) {
    item.classList.toggle("completed", completed);
    form.querySelector("input[name=completed]").value = completed ? "false" : "true";
    var button = form.querySelector(".toggle");
    var name = item.querySelector(".name").textContent;
    button.setAttribute("aria-pressed", completed ? "true" : "false");
    button.title = completed ? "Mark as not complete" : "Mark as complete";
    button.querySelector(".visually-hidden").textContent = (completed ? "Completed: " : "Not complete: ") + name;
    item.querySelector(".status").textContent = completed ? "Completed" : "Not complete";
    updateCount(completed ? -1 : 1);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("toggle-form") || !window.fetch) return;
    event.preventDefault();
    var item = form.closest(".todo");
    var wanted = form.querySelector("input[name=completed]").value === "true";
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      return response.json();
    }).then(function (data) {
      applyToggle(item, form, data.todo.completed === true);
      if (data.todo.completed !== wanted) return;
      var filter = new URLSearchParams(window.location.search).get("status");
      if ((filter === "active" && wanted) || (filter === "completed" && !wanted)) item.remove();
    }).catch(function () {
      form.submit();  // let the server render the outcome, errors included
    });
  });
})();
