// Draw the Plotly figures the server embedded as data attributes (portal/rendering.py):
// on page load and whenever htmx swaps in content that carries one.
(function () {
  function draw(div) {
    if (div.dataset.plotlyDrawn || !window.Plotly) {
      return;
    }
    div.dataset.plotlyDrawn = "1";
    var figure = JSON.parse(div.dataset.plotlyFigure);
    var options = JSON.parse(div.dataset.plotlyOptions || "{}");
    window.Plotly.newPlot(div, figure.data || [], figure.layout || {}, options.config || {});
  }
  function drawWithin(root) {
    if (root.matches && root.matches("div[data-plotly-figure]")) {
      draw(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll("div[data-plotly-figure]").forEach(draw);
    }
  }
  document.addEventListener("DOMContentLoaded", function () { drawWithin(document); });
  document.addEventListener("htmx:load", function (evt) { drawWithin(evt.detail.elt); });
})();
