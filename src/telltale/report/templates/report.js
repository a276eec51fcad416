/* telltale report: sortable tables and the column filter. Without JavaScript the tables are
   plain tables in their default order. A header with data-type="num" sorts numerically by the
   cells' data-sort values, largest first unless it has data-first="asc"; other headers sort
   text A to Z first. Empty values always sort last; equal values keep their order. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function cellKey(row, index, numeric) {
    var cell = row.cells[index];
    if (!cell) return null;
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    if (raw === "" || raw === "\u2014") return null;
    if (numeric) {
      var number = parseFloat(raw);
      return isNaN(number) ? null : number;
    }
    return raw.toLowerCase();
  }

  function sortTable(table, th, index) {
    var numeric = th.getAttribute("data-type") === "num";
    var current = th.getAttribute("aria-sort");
    var first = th.getAttribute("data-first") === "asc" || !numeric;
    var ascending = current ? current !== "ascending" : first;
    var headers = th.parentNode.cells;
    for (var h = 0; h < headers.length; h++) headers[h].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.map.call(body.rows, function (row, position) {
      return { row: row, key: cellKey(row, index, numeric), position: position };
    });
    rows.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        if (a.key === b.key) return a.position - b.position;
        return a.key === null ? 1 : -1;
      }
      var order = numeric ? a.key - b.key : a.key.localeCompare(b.key);
      if (!ascending) order = -order;
      return order || a.position - b.position;
    });
    rows.forEach(function (item) { body.appendChild(item.row); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    if (!table.tHead || !table.tBodies.length) return;
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.title = th.title || "Click to sort";
      th.addEventListener("click", function () { sortTable(table, th, index); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortTable(table, th, index);
        }
      });
    });
  });

  var filter = document.getElementById("col-filter");
  var driftedOnly = document.getElementById("col-drifted");
  if (filter && driftedOnly) {
    filter.closest(".filter").hidden = false;
    var blocks = document.querySelectorAll(".col-block");
    var apply = function () {
      var needle = filter.value.trim().toLowerCase();
      Array.prototype.forEach.call(blocks, function (block) {
        var show = (!needle || block.getAttribute("data-name").indexOf(needle) !== -1) &&
          (!driftedOnly.checked || block.classList.contains("drifted"));
        block.hidden = !show;
      });
    };
    filter.addEventListener("input", apply);
    driftedOnly.addEventListener("change", apply);
  }
})();
