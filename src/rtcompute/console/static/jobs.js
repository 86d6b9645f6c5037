/* rtcompute job pages: the SQL editor's line numbers (one per line of the text, no more) and
   jumps to a problem's line, and the live metric charts (SVG line charts with axes, polling the
   console's metrics.json). No dependencies; every form on the pages works without this file. */
(function () {
  "use strict";

  function editor() {
    var text = document.getElementById("sql-text");
    var gutter = document.getElementById("sql-gutter");
    if (!text || !gutter) return;
    var marked = {};
    gutter.querySelectorAll("span.bad").forEach(function (s) { marked[s.dataset.gutterLine] = true; });
    function numbers() {
      var count = text.value.split("\n").length;
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

  // the chart's drawing area inside its viewBox (0 0 W H): room on the left for the y
  // axis' tick labels, below for the times of the x axis
  var W = 320, H = 150, LEFT = 44, RIGHT = 8, TOP = 18, BOTTOM = 20;
  var SVG = "http://www.w3.org/2000/svg";

  // the smallest "nice" number (1, 2, 2.5, 5 times a power of ten) at least `value`
  function niceCeiling(value) {
    if (!(value > 0)) return 1;
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * power >= value) return steps[i] * power;
    return 10 * power;
  }

  function compact(value) {
    var abs = Math.abs(value);
    var units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (abs >= units[i][0]) return trim(value / units[i][0]) + units[i][1];
    }
    return trim(value);
  }

  function trim(value) {
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
  }

  function clock(date) {
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return two(date.getHours()) + ":" + two(date.getMinutes()) + ":" + two(date.getSeconds());
  }

  function element(name, attributes, text) {
    var made = document.createElementNS(SVG, name);
    Object.keys(attributes).forEach(function (key) { made.setAttribute(key, attributes[key]); });
    if (text !== undefined) made.textContent = text;
    return made;
  }

  // One chart: a 0-based y axis (three ticks, the unit above it), an x axis with the times of
  // the first, middle and last readings, and the readings as a line at their own height (a
  // steady 50 records/s is a flat line at 50). The figure carries what was drawn (data-points,
  // data-scale-max) for tests and screen readers.
  function draw(figure, samples) {
    var field = figure.dataset.series;
    var readings = samples.filter(function (s) { return s[field] !== null && s[field] !== undefined; });
    var values = readings.map(function (s) { return s[field]; });
    figure.dataset.points = String(values.length);
    var latest = figure.querySelector("[data-latest]");
    if (latest && values.length) latest.textContent = compact(values[values.length - 1]);
    var svg = figure.querySelector("svg");
    var line = svg && svg.querySelector("polyline");
    if (!line) return;
    var axes = svg.querySelector("g.axes");
    if (axes) axes.remove();
    axes = element("g", { "class": "axes" });
    svg.insertBefore(axes, line);
    var fixed = parseFloat(figure.dataset.scaleMax);
    var top = fixed > 0 ? Math.max(fixed, Math.max.apply(null, values.concat([0]))) : niceCeiling(Math.max.apply(null, values.concat([0])));
    figure.dataset.scaleMax = String(top);
    var height = H - TOP - BOTTOM, width = W - LEFT - RIGHT;
    function y(value) { return TOP + (1 - value / top) * height; }
    [0, top / 2, top].forEach(function (tick) {
      axes.appendChild(element("line", { "class": tick ? "grid" : "axis", x1: LEFT, x2: W - RIGHT, y1: y(tick), y2: y(tick) }));
      axes.appendChild(element("text", { "class": "tick", x: LEFT - 4, y: y(tick) + 3.5, "text-anchor": "end", "data-tick": String(tick) }, compact(tick)));
    });
    axes.appendChild(element("line", { "class": "axis", x1: LEFT, x2: LEFT, y1: TOP, y2: H - BOTTOM }));
    axes.appendChild(element("text", { "class": "unit", x: LEFT, y: TOP - 6, "text-anchor": "start" }, figure.dataset.unit || ""));
    if (!values.length) { line.setAttribute("points", ""); return; }
    var times = readings.map(function (s) { return new Date(s.at).getTime(); });
    var first = times[0], span = times[times.length - 1] - first;
    function x(i) { return LEFT + (span > 0 ? (times[i] - first) / span : 0.5) * width; }
    var marks = span > 0 ? [0, Math.floor((times.length - 1) / 2), times.length - 1] : [0];
    marks.forEach(function (i, n) {
      var anchor = marks.length === 1 ? "middle" : ["start", "middle", "end"][n];
      axes.appendChild(element("text", { "class": "time", x: x(i), y: H - 5, "text-anchor": anchor }, clock(new Date(times[i]))));
    });
    line.setAttribute("points", values.map(function (v, i) {
      return x(i).toFixed(1) + "," + y(v).toFixed(1);
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
