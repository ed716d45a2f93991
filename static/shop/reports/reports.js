/* Business reports: charts (Chart.js, committed under static/shop/vendor/chartjs) drawn from
   the page's JSON (#chart-data), client-side sorting of tables marked data-sortable, and
   the date preset switching to "custom" when a date is typed. No inline scripts. */
(function () {
  "use strict";

  var palette = ["#1E1B18", "#B5835A", "#2F4A3A", "#6B2C2C", "#8A8178", "#D9C7AE"];

  function data() {
    var node = document.getElementById("chart-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  function percentAxis(title) {
    return { beginAtZero: true, title: { display: true, text: title } };
  }

  var builders = {
    "share-trend": function (d) {
      var datasets = [{ label: "Online share of revenue (%)", data: d.share, borderColor: palette[1], backgroundColor: palette[1], spanGaps: true }];
      if (d.target !== null) {
        datasets.push({ label: "Target (%)", data: d.labels.map(function () { return d.target; }), borderColor: palette[3], borderDash: [6, 4], pointRadius: 0 });
      }
      return { type: "line", data: { labels: d.labels, datasets: datasets }, options: { scales: { y: percentAxis("%") } } };
    },
    "channel-revenue": function (d) {
      return {
        type: "bar",
        data: { labels: d.labels, datasets: d.channels.map(function (c, i) { return { label: c.label, data: c.revenue, backgroundColor: palette[i % palette.length] }; }) },
        options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: "£ excl. VAT" } } } }
      };
    },
    sustainable: function (d) {
      return {
        type: "bar",
        data: {
          labels: d.labels,
          datasets: [
            { label: "Evergreen", data: d.sustainable, backgroundColor: palette[2] },
            { label: "Other lines", data: d.other, backgroundColor: palette[4] },
            { label: "Evergreen projection", data: d.projection, type: "line", borderColor: palette[3], borderDash: [6, 4], spanGaps: true }
          ]
        },
        options: { scales: { y: { title: { display: true, text: "£ excl. VAT" } } } }
      };
    },
    whale: function (d) {
      return {
        type: "line",
        data: { datasets: [
          { label: "Cumulative share of margin (%)", data: d.points, borderColor: palette[1], backgroundColor: palette[1], pointRadius: 0, parsing: false },
          { label: "100 %", data: [{ x: 0, y: 100 }, { x: 100, y: 100 }], borderColor: palette[4], borderDash: [4, 4], pointRadius: 0, parsing: false }
        ] },
        options: { scales: { x: { type: "linear", min: 0, max: 100, title: { display: true, text: "Customers ranked by margin (%)" } }, y: { title: { display: true, text: "Cumulative margin (%)" } } } }
      };
    },
    waterfall: function (d) {
      var running = 0;
      var bars = d.values.map(function (value, i) {
        if (i === d.values.length - 1) { return [0, value]; }
        var from = running; running += value; return [from, running];
      });
      return {
        type: "bar",
        data: { labels: d.labels, datasets: [{ label: "£ excl. VAT", data: bars, backgroundColor: d.values.map(function (v, i) { return i === d.values.length - 1 ? palette[2] : (v < 0 ? palette[3] : palette[1]); }) }] },
        options: { plugins: { legend: { display: false } } }
      };
    },
    "lead-time": function (d) {
      return {
        type: "line",
        data: { labels: d.labels, datasets: [
          { label: "Median, personalized (days)", data: d.median_personalized, borderColor: palette[1], spanGaps: true },
          { label: "Median, not personalized (days)", data: d.median_plain, borderColor: palette[2], spanGaps: true },
          { label: "90th percentile, all (days)", data: d.p90_all, borderColor: palette[3], borderDash: [6, 4], spanGaps: true }
        ] },
        options: { scales: { y: { beginAtZero: true, title: { display: true, text: "days" } } } }
      };
    },
    "on-time": function (d) {
      return { type: "bar", data: { labels: d.labels, datasets: [{ label: "Dispatched by the promised date (%)", data: d.on_time, backgroundColor: palette[2] }] }, options: { scales: { y: { beginAtZero: true, max: 100 } } } };
    },
    personalization: function (d) {
      return {
        type: "bar",
        data: { labels: d.labels, datasets: [
          { label: "Margin per unit (£)", data: d.margin, backgroundColor: d.margin.map(function (v) { return v < 0 ? palette[3] : palette[2]; }), xAxisID: "x" },
          { label: "Uptake (% of lines that could take it)", data: d.uptake, backgroundColor: palette[1], xAxisID: "x2" }
        ] },
        options: { indexAxis: "y", scales: { x: { position: "bottom", title: { display: true, text: "£ per unit" } }, x2: { position: "top", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "% uptake" } } } }
      };
    },
    cost: function (d) {
      return {
        type: "line",
        data: { labels: d.labels, datasets: [
          { label: "All products: like-for-like cost change (%)", data: d.all, borderColor: palette[1], spanGaps: true },
          { label: "Evergreen: like-for-like cost change (%)", data: d.sustainable, borderColor: palette[2], spanGaps: true },
          { label: "Mix effect on the average cost (points)", data: d.mix, borderColor: palette[0], borderDash: [2, 3], spanGaps: true },
          { label: "Target (%)", data: d.labels.map(function () { return d.target; }), borderColor: palette[3], borderDash: [6, 4], pointRadius: 0 }
        ] },
        options: { scales: { y: { title: { display: true, text: "% against the baseline month (negative = cheaper)" } } } }
      };
    }
  };

  function drawCharts() {
    var d = data();
    if (!d || typeof Chart === "undefined") { return; }
    Chart.defaults.font.family = "system-ui, sans-serif";
    Chart.defaults.color = "#1E1B18";
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var build = builders[canvas.getAttribute("data-chart")];
      if (build) { new Chart(canvas, build(d)); }
    });
  }

  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) { return ""; }
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent.trim();
    var number = parseFloat(String(raw).replace(/[£,%\s]/g, ""));
    return isNaN(number) || /^\d{4}-\d{2}/.test(raw) ? String(raw).toLowerCase() : number;
  }

  function makeSortable(table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      th.style.cursor = "pointer";
      th.setAttribute("tabindex", "0");
      th.title = "Sort by this column";
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = cellValue(a, index), y = cellValue(b, index);
          if (x === y) { return 0; }
          if (x === "") { return 1; }
          if (y === "") { return -1; }
          return (x < y ? -1 : 1) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sort(); } });
    });
  }

  function presets() {
    var form = document.querySelector("[data-report-filters]");
    if (!form) { return; }
    var preset = form.querySelector("[name=preset]");
    form.querySelectorAll("input[type=date]").forEach(function (input) {
      input.addEventListener("change", function () { if (preset) { preset.value = "custom"; } });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("table[data-sortable]").forEach(makeSortable);
    presets();
    drawCharts();
  });
})();
