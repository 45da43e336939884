// Draw the Plotly figures the server embedded as data attributes (portal/rendering.py):
// on page load and whenever htmx swaps in content that carries one.
//
// Figures in swapped content are drawn once htmx has settled it, not on htmx:load: during
// the swap the new nodes may not have their final size yet, and a plot measured then keeps
// the wrong width, titles and gauge position until a reload. Plots already on screen inside
// the swapped area are resized, since a swap may have changed the room they have.
(function () {
  var SELECTOR = "div[data-plotly-figure]";

  function draw(div) {
    if (!window.Plotly || !div.isConnected) {
      return;
    }
    if (div.dataset.plotlyDrawn) {
      if (div.classList.contains("js-plotly-plot")) {
        window.Plotly.Plots.resize(div);
      }
      return;
    }
    div.dataset.plotlyDrawn = "1";
    var figure = JSON.parse(div.dataset.plotlyFigure);
    var options = JSON.parse(div.dataset.plotlyOptions || "{}");
    window.Plotly.newPlot(div, figure.data || [], figure.layout || {}, options.config || {});
  }

  function drawWithin(root) {
    if (!root) {
      return;
    }
    if (root.matches && root.matches(SELECTOR)) {
      draw(root);
    }
    if (root.querySelectorAll) {
      root.querySelectorAll(SELECTOR).forEach(draw);
    }
  }

  document.addEventListener("DOMContentLoaded", function () { drawWithin(document); });
  document.addEventListener("htmx:afterSettle", function (evt) {
    drawWithin(evt.detail.elt);
  });
  // Going back re-fetches the page (no history cache) and puts it in without a settle.
  document.addEventListener("htmx:historyRestore", function () { drawWithin(document); });
})();
