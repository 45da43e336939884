// Draw the Plotly figures the server embedded as data attributes (portal/rendering.py):
// on page load and whenever htmx swaps in content that carries one.
//
// Figures in swapped content are drawn once htmx has settled it, not on htmx:load: during
// the swap the new nodes may not have their final size yet, and a plot measured then keeps
// the wrong width, titles and gauge position until a reload. Plots already on screen inside
// the swapped area are resized, since a swap may have changed the room they have.
(function () {
  var SELECTOR = "div[data-plotly-figure]";
  var NOT_CARTESIAN = /^(pie|indicator|sunburst|treemap|sankey|funnelarea|icicle|table)$/;

  // Colours that follow the page's theme (static/js/theme.js): transparent backgrounds,
  // text and grid lines from Pico's variables of the scheme in force. Keys use Plotly's
  // "attr.sub" form, as Plotly.relayout takes them; `nested` turns them into a layout.
  function themeUpdate(layout, data) {
    var style = window.getComputedStyle(document.documentElement);
    var text = style.getPropertyValue("--pico-color").trim() || "#373c44";
    var grid = style.getPropertyValue("--pico-muted-border-color").trim() || "#e7eaf0";
    var update = {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)", "font.color": text,
      "legend.bgcolor": "rgba(0,0,0,0)",
    };
    var axes = Object.keys(layout).filter(function (key) { return /^[xy]axis\d*$/.test(key); });
    var cartesian = (data || []).some(function (trace) { return !NOT_CARTESIAN.test(trace.type || ""); });
    if (cartesian) {
      axes = axes.concat(["xaxis", "yaxis"]);
    }
    axes.forEach(function (axis) {
      update[axis + ".gridcolor"] = grid;
      update[axis + ".zerolinecolor"] = grid;
      update[axis + ".linecolor"] = grid;
    });
    return update;
  }

  function nested(layout, update) {
    var out = Object.assign({}, layout);
    Object.keys(update).forEach(function (key) {
      var parts = key.split(".");
      if (parts.length === 1) {
        out[key] = update[key];
      } else {
        out[parts[0]] = Object.assign({}, out[parts[0]]);
        out[parts[0]][parts[1]] = update[key];
      }
    });
    return out;
  }

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
    var layout = figure.layout || {};
    window.Plotly.newPlot(div, figure.data || [], nested(layout, themeUpdate(layout, figure.data)),
                          options.config || {});
  }

  // The theme changed (the header's switch, or the device's scheme while on "auto").
  document.addEventListener("portal:themechange", function () {
    if (!window.Plotly) {
      return;
    }
    document.querySelectorAll(SELECTOR + ".js-plotly-plot").forEach(function (div) {
      window.Plotly.relayout(div, themeUpdate(div.layout || {}, div.data));
    });
  });

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
