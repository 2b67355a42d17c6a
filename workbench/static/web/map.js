/* Catalogue map: jurisdiction outlines and listing points from /map.geojson, drawn with the vendored
   Leaflet on a plain background (no tile server, works offline). Listings at one address share one
   marker (its popup lists them all, the number is on the marker); the map zooms to the results; a
   distance filter draws its radius circle. */
(function () {
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, {attributionControl: false, zoomSnap: 0.25}).setView([31.2, 119.5], 6);
  function link(f) {
    var a = document.createElement("a");
    a.href = f.properties.url;
    a.textContent = f.properties.title + " (" + f.properties.available + ")";
    return a;
  }
  fetch(el.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
    var outlines = L.geoJSON(data.features.filter(function (f) { return f.properties.kind === "jurisdiction"; }), {
      style: function (f) {
        var province = f.properties.level === "province";
        return {color: province ? "#52606d" : "#9aa5b1", weight: province ? 2 : 1, fillColor: "#ffffff",
                fillOpacity: province ? 0 : 0.6};
      },
      onEachFeature: function (f, layer) { layer.bindTooltip(f.properties.name); }
    }).addTo(map);
    var groups = {}, order = [];
    data.features.forEach(function (f) {
      if (f.properties.kind !== "listing") { return; }
      var c = f.geometry.coordinates, key = c[0].toFixed(5) + "," + c[1].toFixed(5);
      if (!groups[key]) { groups[key] = []; order.push(key); }
      groups[key].push(f);
    });
    var points = L.featureGroup().addTo(map);
    order.forEach(function (key) {
      var items = groups[key], c = items[0].geometry.coordinates, latlng = L.latLng(c[1], c[0]);
      var box = document.createElement("div");
      var agency = document.createElement("strong");
      agency.textContent = items[0].properties.agency;
      box.appendChild(agency);
      var list = document.createElement("ul");
      list.className = "map-items";
      items.forEach(function (f) { var li = document.createElement("li"); li.appendChild(link(f)); list.appendChild(li); });
      box.appendChild(list);
      var marker = items.length === 1
        ? L.circleMarker(latlng, {radius: 7, color: "#8b1e1e", fillColor: "#d64545", fillOpacity: 0.9})
        : L.marker(latlng, {icon: L.divIcon({className: "map-group", html: String(items.length), iconSize: [26, 26]})});
      marker.bindPopup(box).addTo(points);
    });
    var radius = null;
    if (data.radius) {
      radius = L.circle([data.radius.lat, data.radius.lon], {radius: data.radius.km * 1000, color: "#1f5fa8",
        weight: 1.5, fillOpacity: 0.05, dashArray: "6 4"}).addTo(map);
    }
    var bounds = radius ? radius.getBounds() : null;
    if (points.getLayers().length) {
      bounds = bounds ? bounds.extend(points.getBounds()) : points.getBounds().pad(0.3);
    } else if (!bounds && outlines.getLayers().length) {
      bounds = outlines.getBounds();
    }
    if (bounds && bounds.isValid()) { map.fitBounds(bounds, {maxZoom: 12}); }
    el.dataset.loaded = String(data.features.filter(function (f) { return f.properties.kind === "listing"; }).length);
    el.dataset.markers = String(points.getLayers().length);
  });
})();
