// Keeps the "12 min ago" wording of <time data-when> elements current while a page stays
// open (the server wrote it as of the render); the local time and the UTC title stay.
(function () {
  function relative(then, now) {
    var seconds = (then - now) / 1000, ahead = seconds > 0, span = Math.abs(seconds);
    if (span < 45) { return "just now"; }
    var units = [[86400 * 365, "year"], [86400 * 30, "month"], [86400, "day"], [3600, "h"], [60, "min"]];
    for (var i = 0; i < units.length; i++) {
      var size = units[i][0], unit = units[i][1];
      if (span >= size) {
        var count = size >= 86400 ? Math.round(span / size) : Math.floor(span / size);
        if (size >= 86400 && count !== 1) { unit += "s"; }
        return ahead ? "in " + count + " " + unit : count + " " + unit + " ago";
      }
    }
    return "just now";
  }
  function refresh(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[data-when]").forEach(function (el) {
      var rel = el.querySelector(".when-rel");
      var then = Date.parse(el.getAttribute("datetime"));
      if (rel && !isNaN(then)) { rel.textContent = " · " + relative(then, now); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { refresh(); });
  document.addEventListener("htmx:afterSwap", function (evt) { refresh(evt.detail.target); });
  window.setInterval(refresh, 30000);
})();
