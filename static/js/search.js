// Keyboard paths: Ctrl-K (or "/") opens search, arrows move through its results, Enter
// opens one, Escape closes; "?" lists the shortcuts; a page's own actions carry
// data-shortcut="<key>" (e.g. "a" acknowledge, "r" resolve) and "g" then a letter goes to
// an area. Keys typed into a field are left alone.
(function () {
  var GO = { h: "/", c: "/catalog/", s: "/slo/", o: "/oncall/", i: "/incidents/", f: "/selfservice/" };
  var pendingGo = false;

  function box() { return document.getElementById("global-search"); }
  function options() {
    return Array.prototype.slice.call(document.querySelectorAll("#search-results [role=option]"));
  }
  function activate(list, index) {
    var input = box();
    list.forEach(function (item, i) { item.setAttribute("aria-selected", i === index ? "true" : "false"); });
    if (input && list[index]) {
      input.setAttribute("aria-activedescendant", list[index].id);
      list[index].scrollIntoView({ block: "nearest" });
    }
  }
  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }
  function closeResults() {
    var results = document.getElementById("search-box-results");
    if (results) { results.innerHTML = ""; }
    var input = box();
    if (input) { input.removeAttribute("aria-activedescendant"); input.setAttribute("aria-expanded", "false"); }
  }

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target && evt.detail.target.id === "search-box-results") {
      var input = box();
      if (input) { input.setAttribute("aria-expanded", options().length ? "true" : "false"); }
    }
  });

  document.addEventListener("keydown", function (evt) {
    var input = box();
    if ((evt.ctrlKey || evt.metaKey) && (evt.key === "k" || evt.key === "K")) {
      if (input) { evt.preventDefault(); input.focus(); input.select(); }
      return;
    }
    if (input && evt.target === input) {
      var list = options();
      var current = list.findIndex(function (item) { return item.getAttribute("aria-selected") === "true"; });
      if (evt.key === "ArrowDown" && list.length) {
        evt.preventDefault(); activate(list, Math.min(current + 1, list.length - 1));
      } else if (evt.key === "ArrowUp" && list.length) {
        evt.preventDefault(); activate(list, Math.max(current - 1, 0));
      } else if (evt.key === "Enter" && current >= 0) {
        evt.preventDefault(); window.location.assign(list[current].querySelector("a").href);
      } else if (evt.key === "Escape") {
        closeResults(); input.blur();
      }
      return;
    }
    if (evt.ctrlKey || evt.metaKey || evt.altKey || typing(evt.target)) { return; }
    if (pendingGo) {
      pendingGo = false;
      if (GO[evt.key]) { evt.preventDefault(); window.location.assign(GO[evt.key]); }
      return;
    }
    if (evt.key === "/" && input) { evt.preventDefault(); input.focus(); return; }
    if (evt.key === "?") {
      var help = document.getElementById("shortcuts-help");
      if (help && !help.open) { evt.preventDefault(); help.showModal(); }
      return;
    }
    if (evt.key === "g") { pendingGo = true; return; }
    var action = document.querySelector('[data-shortcut="' + evt.key + '"]');
    if (action && !action.disabled) { evt.preventDefault(); action.click(); }
  });

  document.addEventListener("click", function (evt) {
    var help = document.getElementById("shortcuts-help");
    if (help && evt.target && evt.target.id === "shortcuts-close") { help.close(); }
    if (!evt.target.closest || !evt.target.closest("#global-search-form")) { closeResults(); }
  });
})();
