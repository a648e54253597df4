// postloan workbench: start the dashboard's charts from the options embedded in the page.
(function () {
  "use strict";
  function startCharts() {
    var holder = document.getElementById("chart-options");
    if (!holder || typeof echarts === "undefined") { return; }
    var options = JSON.parse(holder.textContent);
    var charts = [];
    Object.keys(options).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) { return; }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(options[id]);
      charts.push(chart);
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (c) { c.resize(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (window.htmx) {
      // show refusals (403) and errors in place rather than silently dropping them
      htmx.config.responseHandling = [
        { code: "204", swap: false },
        { code: "[23]..", swap: true },
        { code: "[45]..", swap: true, error: true }
      ];
    }
    startCharts();
  });
})();
