// Self-contained HTML pages (`report`, `mapview`): one file, inline CSS, SVG and a few lines
// of vanilla JS (sortable and filterable tables); no network, no external URL. Tables carry
// text labels for everything a colour shows, so the pages read without colour.
#pragma once
#include <cstdint>
#include <string>

namespace tinyforge::cli::html {

std::string escape(const std::string& text);  // &, <, >, ", '

// "1.2 KiB", "340 B": sizes in tables.
std::string bytes(uint64_t n);

// `<!DOCTYPE html>` ... `<body>` with the shared style and `title`; close with page_end().
std::string page_begin(const std::string& title);
// The script that makes every `table.sortable` sortable (click a header) and every
// `input[data-filter=ID]` filter the rows of table ID; then `</body></html>`.
std::string page_end();

}  // namespace tinyforge::cli::html
