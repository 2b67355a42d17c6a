/* Catalogue map: jurisdiction outlines and listing points from /map.geojson, drawn with the vendored
   Leaflet on a plain background (no tile server, works offline). */
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, {attributionControl: false, zoomSnap: 0.25}).setView([31.2, 119.5], 6);
  fetch(el.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
    var outlines = L.geoJSON(data.features.filter(function (f) { return f.properties.kind === "jurisdiction"; }), {
      style: function (f) {
        var province = f.properties.level === "province";
        return {color: province ? "#52606d" : "#9aa5b1", weight: province ? 2 : 1, fillColor: "#ffffff",
                fillOpacity: province ? 0 : 0.6};
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); }
    }).addTo(map);
    var points = L.geoJSON(data.features.filter(function (f) { return f.properties.kind === "listing"; }), {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, {radius: 7, color: "#8b1e1e", fillColor: "#d64545", fillOpacity: 0.9});
      },
      onEachFeature: function (f, layer) {
        var a = document.createElement("a");
        a.href = f.properties.url;
        a.textContent = f.properties.title + " (" + f.properties.available + ")";
        var box = document.createElement("div");
        box.appendChild(a);
        box.appendChild(document.createElement("br"));
        box.appendChild(document.createTextNode(f.properties.agency));
        layer.bindPopup(box);
      }
    }).addTo(map);
    var bounds = outlines.getLayers().length ? outlines.getBounds() : points.getBounds().pad(0.5);
    if (bounds.isValid()) { map.fitBounds(bounds); }
    el.dataset.loaded = String(points.getLayers().length);
  });
})();
