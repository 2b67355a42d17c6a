/* The coordinator dashboard's charts, drawn by the vendored ECharts (web/echarts/) from the figures the
   page embeds (#dashboard-data) and the region's outlines (data-outlines, our own GeoJSON: no tiles). */
(function () {
  var data = JSON.parse(document.getElementById("dashboard-data").textContent);
  var L = data.labels;
  var narrow = window.matchMedia("(max-width: 640px)").matches;

  var trendBox = document.getElementById("trend-chart");
  var trend = echarts.init(trendBox, null, { renderer: "svg" });
  trend.setOption({
    animation: false,
    tooltip: { trigger: "axis" },
    legend: { top: 0, data: [L.transfers, L.value, L.turnaround] },
    grid: { left: 48, right: 56, top: narrow ? 56 : 36, bottom: 28 },
    xAxis: { type: "category", data: data.months.map(function (m) { return m.month; }) },
    yAxis: [{ type: "value", name: "", minInterval: 1 }, { type: "value", name: "", splitLine: { show: false } }],
    series: [
      { name: L.transfers, type: "bar", data: data.months.map(function (m) { return m.transfers; }) },
      { name: L.value, type: "line", yAxisIndex: 1, data: data.months.map(function (m) { return m.value; }) },
      { name: L.turnaround, type: "line", data: data.months.map(function (m) { return m.turnaround; }) }
    ],
    graphic: data.months.length ? [] : [{ type: "text", left: "center", top: "middle", style: { text: L.nodata } }]
  });

  var mapBox = document.getElementById("map-chart");
  var map = echarts.init(mapBox, null, { renderer: "svg" });
  var byCode = {};
  data.lines.forEach(function (line) { byCode[line.code] = line; });
  fetch(mapBox.getAttribute("data-outlines"), { credentials: "same-origin" })
    .then(function (response) { return response.json(); })
    .then(function (geojson) {
      echarts.registerMap("region", geojson);
      var names = {}, values = [];
      geojson.features.forEach(function (f) {
        var line = byCode[f.properties.name];
        names[f.properties.name] = line ? line.name : f.properties.label;
        values.push({ name: f.properties.name, value: line ? line.taken + line.given : null,
                      saved: line ? line.saved : null });
      });
      var top = Math.max.apply(null, values.map(function (v) { return v.value || 0; }).concat([1]));
      map.setOption({
        animation: false,
        tooltip: { trigger: "item", formatter: function (p) {
          var v = p.data || {};
          return names[p.name] + "<br>" + L.map + ": " + (v.value == null ? L.nodata : v.value) +
            (v.saved == null ? "" : "<br>" + L.saved + ": " + v.saved.toLocaleString());
        } },
        visualMap: { min: 0, max: top, left: 0, bottom: 0, text: [String(top), "0"], calculable: false,
                     inRange: { color: ["#fdecea", "#8b1e1e"] } },
        series: [{ type: "map", map: "region", roam: true, layoutSize: "95%", data: values,
                   label: { show: !narrow, fontSize: 9, formatter: function (p) { return names[p.name] || ""; } },
                   itemStyle: { borderColor: "#52606d", borderWidth: 0.5, areaColor: "#f0f2f5" },
                   emphasis: { label: { show: true } } }]
      });
      mapBox.setAttribute("data-ready", String(geojson.features.length));
    });
  trendBox.setAttribute("data-ready", String(data.months.length));
  window.addEventListener("resize", function () { trend.resize(); map.resize(); });
})();
