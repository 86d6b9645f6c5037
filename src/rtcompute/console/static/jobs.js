/* rtcompute job pages: the SQL editor's line numbers and jumps to a problem's line, and the
   live metric charts (SVG sparklines polling the console's metrics.json). No dependencies;
   every form on the pages works without this file. */
(function () {
  "use strict";

  function editor() {
    var text = document.getElementById("sql-text");
    var gutter = document.getElementById("sql-gutter");
    if (!text || !gutter) return;
    var marked = {};
    gutter.querySelectorAll("span.bad").forEach(function (s) { marked[s.dataset.gutterLine] = true; });
    function numbers() {
      var count = Math.max(text.value.split("\n").length, 12);
      if (gutter.children.length === count) return;
      var parts = [];
      for (var n = 1; n <= count; n++) {
        parts.push('<span data-gutter-line="' + n + '"' + (marked[n] ? ' class="bad"' : "") + ">" + n + "</span>\n");
      }
      gutter.innerHTML = parts.join("");
    }
    text.addEventListener("input", numbers);
    text.addEventListener("scroll", function () { gutter.scrollTop = text.scrollTop; });
    document.querySelectorAll("[data-jump-line]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        jump(text, gutter, parseInt(link.dataset.jumpLine, 10), parseInt(link.dataset.jumpColumn, 10) || 1);
      });
    });
    numbers();
  }

  function jump(text, gutter, line, column) {
    var lines = text.value.split("\n");
    line = Math.min(Math.max(line, 1), lines.length);
    var start = 0;
    for (var i = 0; i < line - 1; i++) start += lines[i].length + 1;
    var end = start + lines[line - 1].length;
    text.focus();
    text.setSelectionRange(Math.min(start + column - 1, end), end);
    var height = parseFloat(getComputedStyle(text).lineHeight) || 18;
    text.scrollTop = Math.max(0, (line - 3) * height);
    gutter.scrollTop = text.scrollTop;
    gutter.querySelectorAll("span.current").forEach(function (s) { s.classList.remove("current"); });
    var mark = gutter.querySelector('[data-gutter-line="' + line + '"]');
    if (mark) mark.classList.add("current");
    text.dataset.jumpedTo = String(line);
  }

  function draw(figure, samples) {
    var field = figure.dataset.series;
    var values = samples.map(function (s) { return s[field]; }).filter(function (v) { return v !== null && v !== undefined; });
    figure.dataset.points = String(values.length);
    var latest = figure.querySelector("[data-latest]");
    if (latest && values.length) {
      var last = values[values.length - 1];
      latest.textContent = Number.isInteger(last) ? String(last) : last.toFixed(2);
    }
    var line = figure.querySelector("polyline");
    if (!line || !values.length) return;
    var max = Math.max.apply(null, values), min = Math.min.apply(null, values);
    var span = max - min || 1, step = values.length > 1 ? 300 / (values.length - 1) : 0;
    line.setAttribute("points", values.map(function (v, i) {
      return (i * step).toFixed(1) + "," + (57 - ((v - min) / span) * 54).toFixed(1);
    }).join(" "));
  }

  function charts() {
    var panel = document.getElementById("charts");
    if (!panel) return;
    var url = panel.dataset.metricsUrl;
    var every = (parseInt(panel.dataset.refreshSeconds, 10) || 3) * 1000;
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) return;
          panel.dataset.state = data.state;
          panel.dataset.samples = String(data.samples.length);
          panel.querySelectorAll("figure[data-series]").forEach(function (f) { draw(f, data.samples); });
        })
        .catch(function () { /* the next refresh retries */ })
        .then(function () { setTimeout(refresh, every); });
    }
    refresh();
  }

  function start() { editor(); charts(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
