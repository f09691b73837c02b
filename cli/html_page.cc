#include "cli/html_page.h"

#include <fmt/format.h>

namespace tinyforge::cli::html {

std::string escape(const std::string& text) {
  std::string s;
  s.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        s += "&amp;";
        break;
      case '<':
        s += "&lt;";
        break;
      case '>':
        s += "&gt;";
        break;
      case '"':
        s += "&quot;";
        break;
      case '\'':
        s += "&#39;";
        break;
      default:
        s += c;
    }
  }
  return s;
}

std::string bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < 1024 * 1024) return fmt::format("{:.1f} KiB", n / 1024.0);
  return fmt::format("{:.2f} MiB", n / (1024.0 * 1024.0));
}

std::string page_begin(const std::string& title) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         escape(title) + R"(</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #111; max-width: 1400px; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #bbb; padding: 2px 6px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; cursor: pointer; user-select: none; }
th.sorted-asc::after { content: " \25B2"; } th.sorted-desc::after { content: " \25BC"; }
.bar { display: inline-block; height: .8em; background: #555; vertical-align: middle; }
.note { color: #444; font-size: .92em; }
.verdict-ok { font-weight: bold; } .verdict-over { font-weight: bold; text-decoration: underline; }
svg text { font: 10px system-ui, sans-serif; }
.hot td { font-weight: bold; }
input[type=search] { margin: .3em 0; padding: 2px 4px; }
dl.kv { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }
dl.kv dt { font-weight: bold; } dl.kv dd { margin: 0; }
</style>
</head>
<body>
)";
}

std::string page_end() {
  return R"(<script>
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) v = cell.textContent;
    var x = Number(v);
    return v.trim() !== '' && !isNaN(x) ? x : v.toLowerCase();
  }
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('thead th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var asc = !th.classList.contains('sorted-asc');
        table.querySelectorAll('thead th').forEach(function (h) {
          h.classList.remove('sorted-asc', 'sorted-desc');
        });
        th.classList.add(asc ? 'sorted-asc' : 'sorted-desc');
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          if (typeof x !== typeof y) { x = String(x); y = String(y); }
          return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.querySelectorAll('input[data-filter]').forEach(function (input) {
    var table = document.getElementById(input.getAttribute('data-filter'));
    input.addEventListener('input', function () {
      var q = input.value.toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (r) {
        r.style.display = r.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
      });
    });
  });
  document.body.setAttribute('data-ready', '1');
})();
</script>
</body>
</html>
)";
}

}  // namespace tinyforge::cli::html
