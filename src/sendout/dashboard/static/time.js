// Times in the viewer's local time: every <time datetime="…ISO…"> is written out locally, and
// every hidden "tz" field of a form carries the browser's offset so the server can read the
// datetime-local inputs. Runs on load and after every htmx swap.
(function () {
  "use strict";
  function localize(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      el.textContent = when.toLocaleString(undefined, {
        year: "numeric", month: "short", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
      el.title = el.getAttribute("datetime");
    });
    root.querySelectorAll("input[name=tz]").forEach(function (el) {
      el.value = String(new Date().getTimezoneOffset());
    });
    root.querySelectorAll("input[type=datetime-local][data-iso]").forEach(function (el) {
      var when = new Date(el.getAttribute("data-iso"));
      if (isNaN(when.getTime())) { return; }
      var local = new Date(when.getTime() - when.getTimezoneOffset() * 60000);
      el.value = local.toISOString().slice(0, 16);
      el.removeAttribute("data-iso");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { localize(document); });
  document.addEventListener("htmx:afterSwap", function (e) { localize(e.target); });
})();
