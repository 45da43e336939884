// The colour theme: the server renders data-theme on <html> ("auto" renders none, and Pico
// follows prefers-color-scheme). When the header's switch is posted through htmx, the answer
// carries a `portal-theme` event; this applies it without a reload. Anything that draws its
// own colours (static/js/charts.js) listens for `portal:themechange` on the document.
(function () {
  var root = document.documentElement;
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;

  function effective() {
    var chosen = root.getAttribute("data-theme");
    if (chosen === "light" || chosen === "dark") {
      return chosen;
    }
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }
  window.portalTheme = { effective: effective };

  function announce() {
    document.dispatchEvent(new CustomEvent("portal:themechange", { detail: { theme: effective() } }));
  }

  function apply(theme) {
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
    } else {
      root.removeAttribute("data-theme");
    }
    var scheme = document.querySelector('meta[name="color-scheme"]');
    if (scheme) {
      scheme.setAttribute("content", theme === "light" || theme === "dark" ? theme : "light dark");
    }
    document.querySelectorAll("#theme-toggle button[name=theme]").forEach(function (button) {
      button.setAttribute("aria-pressed", button.value === theme ? "true" : "false");
    });
    announce();
  }

  document.addEventListener("portal-theme", function (evt) {
    apply(evt.detail && evt.detail.value);
  });
  if (darkQuery && darkQuery.addEventListener) {
    darkQuery.addEventListener("change", function () {
      if (!root.hasAttribute("data-theme")) {
        announce();
      }
    });
  }
})();
