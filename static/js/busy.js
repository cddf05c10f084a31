/* lotrack: long work (an import, a certificate or labels being made, a signature) is sent once.
   On the first submit of a POST form the page says it is working (a live region, a spinner on the
   button) and every further submit of that form is dropped until the next page arrives. A loaded
   file, never inline script: the Content-Security-Policy stays strict. The bedside form has a
   script of its own (bedside.js) and is left to it. */
(function () {
  "use strict";

  // A download (ZPL, CSV, a timeline PDF) leaves the page where it is: allow a new submit later.
  var DOWNLOAD_PAUSE_MS = 8000;

  function submitters(form) {
    return form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
  }

  function note(form) {
    var found = form.querySelector(".busy-note");
    if (!found) {
      found = document.createElement("span");
      found.className = "busy-note";
      found.setAttribute("role", "status");
      found.setAttribute("aria-live", "polite");
      form.appendChild(found);
    }
    return found;
  }

  function release(form) {
    delete form.dataset.busy;
    form.removeAttribute("aria-busy");
    submitters(form).forEach(function (b) {
      b.removeAttribute("aria-disabled");
      b.classList.remove("busy");
    });
    var shown = form.querySelector(".busy-note");
    if (shown) {
      shown.textContent = "";
    }
  }

  function onSubmit(event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) {
      return;
    }
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post") {
      return;
    }
    if (form.hasAttribute("data-bedside-form")) {
      return;
    }
    if (form.dataset.busy) {
      event.preventDefault(); // the second click of a double click, or an impatient Enter
      return;
    }
    form.dataset.busy = "1";
    form.setAttribute("aria-busy", "true");
    // Not `disabled`: a disabled submitter would drop its own name=value from what is sent.
    submitters(form).forEach(function (b) {
      b.setAttribute("aria-disabled", "true");
    });
    if (event.submitter) {
      event.submitter.classList.add("busy");
    }
    note(form).textContent = document.body.dataset.working || "Working…";
    window.setTimeout(function () {
      release(form);
    }, DOWNLOAD_PAUSE_MS);
  }

  document.addEventListener("submit", onSubmit);
  // Back to a page from the browser's cache: its forms may be used again.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      document.querySelectorAll("form[data-busy]").forEach(release);
    }
  });
})();
