// A table (or other wide block) that scrolls sideways inside its wrapper must be reachable
// by keyboard: while it overflows, the wrapper becomes a focusable, named region (arrow
// keys then scroll it). Checked on load, after htmx swaps and when the window resizes.
(function () {
  var SELECTOR = ".table-wrap, .overview-columns > div, main table, main pre";

  function nameFor(el) {
    var caption = el.querySelector("caption");
    if (caption && caption.textContent.trim()) {
      return caption.textContent.trim();
    }
    var section = el.closest("section, article");
    var heading = section && section.querySelector("h1, h2, h3, h4");
    if (!heading) {
      var prev = el.previousElementSibling;
      while (prev && !/^H[1-6]$/.test(prev.tagName)) {
        prev = prev.previousElementSibling;
      }
      heading = prev;
    }
    return heading && heading.textContent.trim() ? heading.textContent.trim() : "Table";
  }

  function mark(el) {
    var overflows = el.scrollWidth > el.clientWidth + 1;
    if (overflows && !el.hasAttribute("tabindex")) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("data-scroll-region", "");
      if (!el.hasAttribute("role") && el.tagName !== "TABLE") {
        el.setAttribute("role", "region");
        el.setAttribute("aria-label", nameFor(el) + " (scrolls sideways)");
      }
    } else if (!overflows && el.hasAttribute("data-scroll-region")) {
      el.removeAttribute("tabindex");
      el.removeAttribute("data-scroll-region");
      if (el.getAttribute("role") === "region") {
        el.removeAttribute("role");
        el.removeAttribute("aria-label");
      }
    }
  }

  function markAll() {
    document.querySelectorAll(SELECTOR).forEach(mark);
  }

  var pending = null;
  function later() {
    if (pending === null) {
      pending = window.requestAnimationFrame(function () { pending = null; markAll(); });
    }
  }

  document.addEventListener("DOMContentLoaded", markAll);
  document.addEventListener("htmx:afterSettle", later);
  window.addEventListener("resize", later);
})();
