/* The funnel report's charts (Chart.js, committed under static/shop/vendor/chartjs), drawn from
   the page's JSON (#chart-data): visitors per step, and the trend by day with all paid orders.
   No inline scripts. */
(function () {
  "use strict";

  var palette = ["#1E1B18", "#B5835A", "#2F4A3A", "#6B2C2C", "#8A8178", "#D9C7AE"];
  var node = document.getElementById("chart-data");
  if (!node || typeof Chart === "undefined") { return; }
  var d = JSON.parse(node.textContent);

  var steps = document.querySelector('[data-chart="funnel-steps"]');
  if (steps) {
    new Chart(steps, {
      type: "bar",
      data: { labels: d.steps, datasets: [{ label: "Visitors", data: d.visitors, backgroundColor: palette[1] }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, title: { display: true, text: "visitors" } } } }
    });
  }

  var trend = document.querySelector('[data-chart="funnel-trend"]');
  if (trend) {
    var datasets = d.trend.map(function (series, i) {
      return { label: series.label, data: series.data, borderColor: palette[i % palette.length], backgroundColor: palette[i % palette.length], pointRadius: 0 };
    });
    datasets.push({ label: "All paid orders", data: d.paid_orders, borderColor: palette[3], borderDash: [6, 4], pointRadius: 0 });
    new Chart(trend, {
      type: "line",
      data: { labels: d.days, datasets: datasets },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: "visitors / orders" } } } }
    });
  }
}());
