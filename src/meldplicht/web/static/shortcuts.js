/* Keyboard shortcuts for the case queue and a case page. Enhancement only: every page works
   without this file (links and forms do the work). Loaded with <script src> under the pages'
   CSP (script-src 'self'); no inline script, no inline handlers.
     j / ArrowDown   next case in the queue        k / ArrowUp   previous case
     Enter / o       open the chosen case          c             claim the case (case page)
   Keys are ignored while typing in a field, and with Ctrl, Alt or Meta held. */
(function () {
  "use strict";

  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName;
    return target.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  var table = document.querySelector("table[data-keys=rows]");
  var rows = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-case]")) : [];
  var current = -1;

  var hint = document.getElementById("shortcut-hint");
  if (hint) {
    hint.hidden = false;
  }

  function linkOf(row) {
    return row.querySelector("a[href]");
  }

  function choose(index) {
    if (!rows.length) {
      return;
    }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0) {
      rows[current].classList.remove("row-current");
    }
    current = index;
    var row = rows[current];
    row.classList.add("row-current");
    var link = linkOf(row);
    if (link) {
      link.focus(); // a screen reader announces the employer; Tab goes on from here
    }
    row.scrollIntoView({ block: "nearest" });
  }

  function inQueue(target) {
    return target === document.body || target === document.documentElement ||
      (table !== null && table.contains(target));
  }

  function submit(form) {
    if (typeof form.requestSubmit === "function") {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    var target = event.target;
    if (typing(target)) {
      return;
    }
    var key = event.key;
    if (rows.length) {
      var arrow = key === "ArrowDown" || key === "ArrowUp";
      if (key === "j" || key === "k" || (arrow && inQueue(target))) {
        event.preventDefault();
        choose(key === "j" || key === "ArrowDown" ? current + 1 : current - 1);
        return;
      }
      if ((key === "Enter" || key === "o") && current >= 0 && inQueue(target)) {
        var link = linkOf(rows[current]);
        if (link) {
          event.preventDefault();
          link.click();
        }
        return;
      }
    }
    if (key === "c") {
      var claim = document.querySelector("form[data-key=claim]");
      if (claim) {
        event.preventDefault();
        submit(claim);
      }
    }
  });
})();
