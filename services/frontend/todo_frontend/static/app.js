// Progressive enhancement only: every control is a plain form or link that works
// without this script, and the server stays the one that decides and renders.
// With it:
// - adding, toggling, deleting, "mark all" and "clear completed" happen in place:
//   the same forms are sent with fetch (X-Requested-With: fetch) and the answer is
//   the list's new HTML, read through the reader with this session's LSN, so the
//   page shows the change and the counts are the server's own;
// - double-clicking an item's name, or its Rename control, edits it in place
//   (Enter or leaving the field saves, Escape cancels, an empty name deletes);
// - the focus goes where the server's answer says (the control used, or the next
//   item when one leaves the view), as it does without the script through autofocus;
// - #/, #/active and #/completed open the server's filters, as in TodoMVC.
// A form the server refuses (or a session that has ended) is sent again the plain
// way, so the page the server renders explains it, exactly as without JavaScript.
(function () {
  "use strict";
  if (!window.fetch || !window.URLSearchParams || !window.FormData || !window.crypto || !Element.prototype.closest) return;

  var region = document.getElementById("list-region");
  var addForm = document.querySelector("form.add-form");
  var addField = document.getElementById("new-todo");
  var announcer = document.getElementById("announcer");
  var FOCUSABLE = "a[href], button, input:not([type=hidden])";
  var ROUTES = { "#/": "all", "#/active": "active", "#/completed": "completed" };

  // -- #/active and #/completed: the server's ?status= views --------------------------
  function followRoute() {
    var status = ROUTES[window.location.hash];
    if (!status || !region) return;
    var query = new URLSearchParams(window.location.search);
    query.delete("after");
    query.delete("focus");
    if (status === "all") query.delete("status");
    else query.set("status", status);
    var search = query.toString();
    window.location.replace(window.location.pathname + (search ? "?" + search : ""));
  }
  followRoute();
  window.addEventListener("hashchange", followRoute);

  // The focus hint did its work on load (autofocus); keep the address clean.
  if (window.history.replaceState && /[?&]focus=/.test(window.location.search)) {
    var clean = new URLSearchParams(window.location.search);
    clean.delete("focus");
    var rest = clean.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }

  if (!region) return;

  // -- sending a change ------------------------------------------------------------------
  // One change at a time, in the order the person made them: each answer replaces
  // the list, so a later one always wins.
  var queue = Promise.resolve();
  var replacing = false;  // the list is being swapped: an editor leaving with it saves nothing
  function enqueue(task) {
    queue = queue.then(task, task);
    return queue;
  }

  // The plain way, when the script can't finish the job: the same fields, posted as
  // a normal form, and the server's page (its message, the typed text) comes back.
  function sendPlain(action, body) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = action;
    form.hidden = true;
    body.forEach(function (value, name) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  }

  // how: {sentFrom, keepFocus, message(data), failed(message)}
  function send(action, body, how) {
    return fetch(action, {
      method: "POST",
      body: body,
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.ok && json && !response.redirected) {
        return response.json().then(function (data) { apply(data, how); });
      }
      if (response.status >= 500 && json) {
        // Not saved, or not known to be: say so here and keep what was typed, rather
        // than send it again.
        return response.json().then(function (data) { fail(data.error, how); });
      }
      sendPlain(action, body);
      return null;
    }, function () {
      fail("the server could not be reached; check the connection and try again", how);
    });
  }

  function fail(message, how) {
    showError(message || "that did not work; please try again", how.field);
    if (how.failed) how.failed();
  }

  function showError(message, field) {
    var notice = document.getElementById("form-error");
    if (!notice) {
      notice = document.createElement("p");
      notice.id = "form-error";
      notice.className = "notice notice-error";
      notice.setAttribute("role", "alert");
      addForm.parentNode.insertBefore(notice, addForm);
    }
    notice.textContent = message.charAt(0).toUpperCase() + message.slice(1);
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", "form-error");
    }
  }

  function clearError() {
    var notice = document.getElementById("form-error");
    if (notice) notice.remove();
    if (addField) {
      addField.removeAttribute("aria-invalid");
      addField.removeAttribute("aria-describedby");
    }
  }

  // Where the focus was, found again in the new HTML (same item, same control).
  function locate(element) {
    var item = element.closest("li[id]");
    var all = Array.prototype.slice.call(region.querySelectorAll(FOCUSABLE));
    return { item: item && item.id, control: element.classList[0], index: all.indexOf(element) };
  }

  function find(spot) {
    var item = spot.item && document.getElementById(spot.item);
    var control = item && spot.control && item.querySelector("." + spot.control);
    if (control) return control;
    var all = region.querySelectorAll(FOCUSABLE);
    return spot.index >= 0 && all.length ? all[Math.min(spot.index, all.length - 1)] : null;
  }

  function apply(data, how) {
    if (!data.html) {
      // Saved, but the list could not be read back: the page says why on a reload.
      window.location.reload();
      return;
    }
    var active = document.activeElement;
    var lost = !active || active === document.body;
    var inRegion = !lost && region.contains(active);
    // The person moved on while this was on its way: leave them there.
    var keep = inRegion && (how.keepFocus || active !== how.sentFrom) ? locate(active) : null;
    // An item being edited (not the one just saved) is edited still after the swap.
    var editing = region.querySelector(".todo.editing .edit:not([readonly])");
    var draft = editing && { item: editing.closest(".todo").id, value: editing.value, focused: editing === active };
    // Our own server's HTML, every name in it escaped by the template.
    replacing = true;
    region.innerHTML = data.html;
    replacing = false;
    enhance();
    if (draft) {
      var again = document.getElementById(draft.item);
      if (again) {
        startEdit(again, draft.value, draft.focused);
        if (draft.focused) keep = null;
      }
    }
    document.title = data.title;
    clearError();
    var target = null;
    if (draft && draft.focused) target = document.activeElement;  // the editor, open again
    else if (keep) target = find(keep);
    else if (lost || inRegion || active === how.sentFrom) target = region.querySelector("[autofocus]") || addField;
    var marked = region.querySelectorAll("[autofocus]");
    for (var i = 0; i < marked.length; i++) marked[i].removeAttribute("autofocus");
    if (target) target.focus();
    if (how.message) announce(how.message(data));
  }

  function announce(text) {
    if (!announcer) return;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function left(data) {
    var active = data.counts.active;
    return data.counts.all ? " " + active + (active === 1 ? " item left." : " items left.") : " The list is empty.";
  }

  function quoted(name) {
    return "\u201c" + name + "\u201d";
  }

  // -- the forms ---------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) return;
    var submitter = event.submitter || null;
    var action = submitter && submitter.hasAttribute("formaction") ? submitter.formAction : form.action;
    var body = new URLSearchParams(new FormData(form));
    // What the button itself carries (a toggle's new state), as the browser would send it.
    if (submitter && submitter.name) body.append(submitter.name, submitter.value);
    var how = { sentFrom: submitter || document.activeElement };

    if (form === addForm) {
      var name = addField.value.trim();
      // Cleared at once, so the next item can be typed, with a key of its own (the
      // form's key makes the writer's Idempotency-Key: the same key and text add one
      // item). If this one's outcome is not known, text and key come back, so that
      // sending it again cannot add it twice.
      var formKey = form.querySelector("input[name=form_key]");
      var sentKey = formKey && formKey.value;
      addField.value = "";
      if (formKey) formKey.value = newKey();
      how.sentFrom = addField;
      how.field = addField;
      how.failed = function () {
        if (addField.value) return;
        addField.value = name;
        if (formKey) formKey.value = sentKey;
      };
      how.message = function (data) { return "Added " + quoted(name) + "." + left(data); };
    } else if (form.classList.contains("list-form")) {
      // The list's one form is busy per item (or list control): another still works.
      var busy = (submitter && (submitter.closest(".todo") || submitter)) || form;
      if (busy.dataset.busy) {
        event.preventDefault();  // already on its way; a second delete would find nothing
        return;
      }
      busy.dataset.busy = "1";
      how.failed = function () { delete busy.dataset.busy; };
      how.message = describe(submitter);
    } else {
      return;
    }
    event.preventDefault();
    enqueue(function () { return send(action, body, how); });
  });

  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  function describe(submitter) {
    var item = submitter && submitter.closest(".todo");
    var name = item ? item.querySelector(".name").textContent : "";
    if (submitter && submitter.classList.contains("delete")) {
      return function (data) { return "Deleted " + quoted(name) + "." + left(data); };
    }
    var done = submitter && submitter.value === "true";
    if (item) {
      return function (data) {
        return quoted(name) + (done ? " completed." : " marked as not complete.") + left(data);
      };
    }
    if (submitter && submitter.dataset.action === "mark-all") {
      return function (data) { return (done ? "All items completed." : "All items marked as not complete.") + left(data); };
    }
    return function (data) { return "Completed items cleared." + left(data); };
  }

  // -- editing in place ---------------------------------------------------------------------
  // draft: the text to start from (an editor open again after the list was swapped),
  // and whether it takes the focus (a new editor always does).
  function startEdit(item, draft, focused) {
    if (!item || item.classList.contains("editing")) return;
    var toggle = item.querySelector(".toggle");
    var name = item.querySelector(".name").textContent;
    var form = document.createElement("form");
    form.className = "edit-inline";
    form.method = "post";
    form.action = toggle.formAction.replace(/\/toggle$/, "/rename");
    var input = document.createElement("input");
    input.className = "edit";
    input.name = "name";
    input.value = typeof draft === "string" ? draft : name;
    input.maxLength = 100;
    input.autocomplete = "off";
    input.setAttribute("aria-label", "New name for " + quoted(name));
    var hint = document.createElement("span");
    hint.className = "visually-hidden";
    hint.id = "edit-hint-" + item.id;
    hint.textContent = "Enter or leaving the field saves, Escape cancels; an empty name deletes the item.";
    input.setAttribute("aria-describedby", hint.id);
    form.appendChild(toggle.form.querySelector("input[name=csrf_token]").cloneNode());
    form.appendChild(input);
    form.appendChild(hint);
    item.classList.add("editing");
    item.appendChild(form);
    if (typeof draft !== "string" || focused) {
      input.focus();
      input.setSelectionRange(input.value.length, input.value.length);
    }

    var finished = false;
    function finish(save, byLeaving) {
      if (finished || replacing) return;
      finished = true;
      var value = input.value.trim();
      if (!save || value === name.trim()) {
        form.remove();
        item.classList.remove("editing");
        if (!byLeaving) item.querySelector(".rename-link").focus();
        return;
      }
      input.readOnly = true;
      var body = new URLSearchParams(new FormData(form));
      enqueue(function () {
        return send(form.action, body, {
          sentFrom: input,
          keepFocus: byLeaving,
          field: input,
          failed: function () { finished = false; input.readOnly = false; },
          message: function (data) {
            return (value ? "Renamed to " + quoted(value) + "." : "Deleted " + quoted(name) + ".") + left(data);
          }
        });
      });
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true, false);
      } else if (event.key === "Escape") {
        event.preventDefault();
        finish(false, false);
      }
    });
    input.addEventListener("blur", function () { finish(true, true); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      finish(true, false);
    });
  }

  document.addEventListener("dblclick", function (event) {
    var text = event.target.closest && event.target.closest(".todo .text");
    if (text && region.contains(text)) startEdit(text.closest(".todo"));
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(".rename-link");
    if (!link || !region.contains(link)) return;
    if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    startEdit(link.closest(".todo"));
  });

  // With the script the Rename link opens the editor here: it acts as a button, so
  // it says so and answers Space too.
  document.addEventListener("keydown", function (event) {
    if (event.key !== " ") return;
    var link = event.target.closest && event.target.closest(".rename-link");
    if (!link || !region.contains(link)) return;
    event.preventDefault();
    startEdit(link.closest(".todo"));
  });

  function enhance() {
    var links = region.querySelectorAll(".rename-link");
    for (var i = 0; i < links.length; i++) links[i].setAttribute("role", "button");
  }
  enhance();
})();
