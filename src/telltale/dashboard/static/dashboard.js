/* telltale dashboard: draws the time series of the page from its embedded JSON with Chart.js
   (vendored, no network). Without JavaScript the pages show the data tables instead. */
(function () {
  "use strict";
  var holder = document.getElementById("chart-data");
  if (!holder || typeof window.Chart === "undefined") { return; }
  var data = JSON.parse(holder.textContent);
  var span = (data.span || []).map(function (iso) { return Date.parse(iso); });
  /* Okabe–Ito */
  var BLUE = "#0072B2", ORANGE = "#E69F00", VERMILLION = "#D55E00", GREEN = "#009E73",
      SKY = "#56B4E9", PURPLE = "#CC79A7", YELLOW = "#F0E442", BLACK = "#000000";
  var CLASS_COLOURS = [BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE, YELLOW, BLACK];
  document.documentElement.classList.add("js");

  function t(iso) { return Date.parse(iso); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function label(ms) {
    var d = new Date(ms);
    return (d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }
  function points(rows, key) {
    return rows.map(function (r) { return { x: t(r.start), y: r[key] === undefined ? null : r[key] }; });
  }
  function line(name, rows, key, colour, extra) {
    var ds = { label: name, data: points(rows, key), borderColor: colour, backgroundColor: colour,
               pointRadius: rows.length > 60 ? 0 : 2, borderWidth: 2, spanGaps: false, tension: 0 };
    for (var k in extra || {}) { ds[k] = extra[k]; }
    return ds;
  }
  function timeChart(canvas, datasets, yOptions) {
    return new window.Chart(canvas, {
      type: "line",
      data: { datasets: datasets },
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: true,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        scales: {
          x: { type: "linear", min: span[0], max: span[1], ticks: { callback: label, maxTicksLimit: 7 } },
          y: Object.assign({ beginAtZero: true }, yOptions || {})
        },
        plugins: {
          legend: { labels: { usePointStyle: true, pointStyle: "line",
                              filter: function (item) { return !/ 95% low$/.test(item.text); } } },
          tooltip: { callbacks: { title: function (items) { return items.length ? label(items[0].parsed.x) + "Z" : ""; } } } }
      }
    });
  }
  var percent = { ticks: { callback: function (v) { return (100 * v).toFixed(1) + "%"; } } };
  var builders = {
    throughput: function (c) { return timeChart(c, [line("events/s", data.serving, "throughput_per_s", BLUE)]); },
    latency: function (c) {
      return timeChart(c, [
        line("p50", data.serving, "latency_p50_ms", BLUE),
        line("p95", data.serving, "latency_p95_ms", ORANGE),
        line("p99", data.serving, "latency_p99_ms", VERMILLION, { borderDash: [6, 3] })
      ]);
    },
    rates: function (c) {
      return timeChart(c, [
        line("error", data.serving, "error_rate", VERMILLION),
        line("invalid", data.serving, "invalid_rate", ORANGE, { borderDash: [6, 3] }),
        line("timeout", data.serving, "timeout_rate", PURPLE, { borderDash: [2, 2] })
      ], percent);
    },
    performance: function (c) {
      var rows = data.performance.windows, regression = data.performance.task === "regression";
      var key = regression ? "mae" : "accuracy";
      var sets = [
        line(key + " 95% low", rows, key + "_low", SKY, { borderWidth: 0, pointRadius: 0, fill: false }),
        line(key + " 95% interval", rows, key + "_high", SKY, { borderWidth: 0, pointRadius: 0, fill: "-1", backgroundColor: "rgba(86,180,233,0.3)" }),
        line(key, rows, key, BLUE)
      ];
      var estimated = data.performance.estimated;
      if (!regression && estimated && estimated.windows.length) {
        sets.push(line("estimated without labels", estimated.windows, "estimated_accuracy", ORANGE, { borderDash: [6, 3] }));
      }
      return timeChart(c, sets, regression ? {} : { suggestedMax: 1 });
    },
    prediction: function (c) { return timeChart(c, [line("prediction mean", data.serving, "prediction_mean", BLUE)], { beginAtZero: false }); },
    classes: function (c) {
      var names = Object.keys(data.classes);
      return new window.Chart(c, {
        type: "bar",
        data: { labels: names, datasets: [{ label: "share of predictions", data: names.map(function (n) { return data.classes[n]; }),
                backgroundColor: names.map(function (_, i) { return CLASS_COLOURS[i % CLASS_COLOURS.length]; }) }] },
        options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: Object.assign({ beginAtZero: true }, percent) } }
      });
    },
    resources: function (c) {
      return timeChart(c, [
        line("CPU %", data.resources, "cpu_percent", BLUE, { yAxisID: "y" }),
        line("RSS MB (max)", data.resources, "rss_mb_max", ORANGE, { yAxisID: "y1", borderDash: [6, 3] })
      ], {});
    },
    drift: function (c) {
      var d = data.drift, rows = d.windows.map(function (w, i) { return { start: w.start, value: d.statistic[i], limit: d.threshold }; });
      return timeChart(c, [
        line(d.method || "statistic", rows, "value", BLUE),
        line("threshold", rows, "limit", VERMILLION, { borderDash: [6, 3], pointRadius: 0, borderWidth: 1.5 })
      ]);
    }
  };
  var charts = document.querySelectorAll("canvas[data-chart]");
  for (var i = 0; i < charts.length; i++) {
    var name = charts[i].getAttribute("data-chart");
    if (builders[name]) {
      var chart = builders[name](charts[i]);
      if (name === "resources") {
        chart.options.scales.y1 = { position: "right", beginAtZero: true, grid: { drawOnChartArea: false } };
        chart.update();
      }
    }
  }
})();
