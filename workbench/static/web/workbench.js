/* Workbench behaviour that works without it: the phone menu toggle, and table cells labelled with their
   column header so that tables read as cards on a narrow screen (CSS in workbench.css). */
(function () {
  var toggle = document.getElementById("menu-toggle");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = document.body.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", String(open));
    });
  }
  document.querySelectorAll("table").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    if (!heads.length) { table.classList.add("kv"); return; }
    table.classList.add("cards");
    table.querySelectorAll("tbody tr, tr").forEach(function (row) {
      if (row.parentNode.tagName === "THEAD") { return; }
      Array.prototype.forEach.call(row.children, function (cell, i) {
        if (heads[i] && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[i].textContent.trim()); }
      });
    });
  });
})();
