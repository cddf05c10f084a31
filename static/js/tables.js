/* lotrack: tables that fit. Every cell learns its column's name (data-label); a table wider than
   the space it has is shown as stacked cards, one per row, each value under its column's name,
   so no column is ever pushed off the side of a phone, a tablet or a laptop. Without this file
   the tables scroll sideways in their .table-wrap as before. A loaded file, never inline script:
   the Content-Security-Policy stays strict. tests/browser/test_tables_fit_browser.py measures it. */
(function () {
  "use strict";

  function headerNames(table) {
    var head = table.tHead;
    if (!head || !head.rows.length) {
      return null;
    }
    var names = [];
    Array.prototype.forEach.call(head.rows[head.rows.length - 1].cells, function (th) {
      var text = (th.getAttribute("aria-label") || th.textContent || "").replace(/\s+/g, " ").trim();
      for (var i = 0; i < (th.colSpan || 1); i += 1) {
        names.push(text);
      }
    });
    return names;
  }

  function label(table) {
    var names = headerNames(table);
    if (!names) {
      return;
    }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = cell.colSpan > 1 ? "" : names[column];
          if (name && !cell.hasAttribute("data-label")) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }

  function room(table) {
    return table.parentElement ? table.parentElement.clientWidth : window.innerWidth;
  }

  function fit(table) {
    if (!table.getClientRects().length) {
      return; // not shown (a closed <details>): fitted when it opens
    }
    table.classList.remove("stacked");
    if (table.offsetWidth > room(table) + 1) {
      table.classList.add("stacked");
    }
  }

  function start() {
    var tables = Array.prototype.slice.call(document.querySelectorAll("main table"));
    tables.forEach(label);
    tables.forEach(fit);
    if (window.ResizeObserver) {
      var watch = new ResizeObserver(function () {
        tables.forEach(fit);
      });
      tables.forEach(function (t) {
        if (t.parentElement) {
          watch.observe(t.parentElement);
        }
      });
    } else {
      window.addEventListener("resize", function () {
        tables.forEach(fit);
      });
    }
    document.addEventListener(
      "toggle",
      function () {
        tables.forEach(fit);
      },
      true
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
