// tinyforge mapview firmware.elf [--map firmware.map] [--against old.elf] -o map.html [--json]
// Where flash and RAM go in any 32-bit ARM ELF: allocated sections and the symbols in them
// as an SVG treemap and a sortable, filterable table; the model weights, the arena and the
// stack named; with --map the object file of every symbol (GNU ld map); with --against the
// per-symbol change against an older ELF. Section classes and totals follow
// `arm-none-eabi-size` (Berkeley format): text = allocated code or read-only, data =
// allocated writable with file bytes, bss = allocated without; total = text + data + bss.
#include <cxxabi.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/html_page.h"
#include "io/files.h"
#include "sim/elf_reader.h"
#include "sim/error.h"
#include "sim/link_map.h"

namespace tinyforge::cli {
namespace {

using nlohmann::ordered_json;

constexpr uint32_t kShfWrite = 0x1, kShfExec = 0x4;

struct Options {
  std::string elf, map, against, output;
  Result result;
};

struct Item {  // one leaf of the treemap: a symbol, or the bytes of a section no symbol covers
  std::string name, section, kind, tag, file;
  uint32_t address = 0;
  uint64_t bytes = 0;
};

struct SectionInfo {
  std::string name, kind, region;
  uint32_t address = 0;
  uint64_t bytes = 0;
  std::vector<Item> items;
};

// "text", "data" or "bss", as Berkeley `size` counts a section.
std::string size_class(const sim::ElfSection& s) {
  if ((s.flags & kShfExec) || !(s.flags & kShfWrite)) return "text";
  return s.type != sim::kShtNobits ? "data" : "bss";
}

// A C++ symbol demangled ("tinyforge::crc32(unsigned char const*, unsigned int)"); others as is.
std::string demangle(const std::string& name) {
  if (name.rfind("_Z", 0) != 0) return name;
  int status = 0;
  char* out = abi::__cxa_demangle(name.c_str(), nullptr, nullptr, &status);
  std::string s = status == 0 && out ? out : name;
  std::free(out);
  return s;
}

// For treemap labels: without "(anonymous namespace)::" and a function's parameter list.
std::string short_name(std::string name) {
  const std::string anon = "(anonymous namespace)::";
  for (size_t at = name.find(anon); at != std::string::npos; at = name.find(anon))
    name.erase(at, anon.size());
  const size_t paren = name.find('(');
  if (paren != std::string::npos && paren > 0) name.erase(paren);
  return name;
}

std::string tag_of(const std::string& symbol, const std::string& section) {
  if (section == ".tinyforge.model" || symbol == "tinyforge_model_blob") return "model weights";
  if (symbol == "tinyforge_arena") return "arena";
  if (section == ".stack" || section == "._user_heap_stack" || symbol == "__stack" ||
      symbol == "_stack")
    return "stack";
  return "";
}

std::vector<SectionInfo> analyse(const sim::ElfImage& elf, const sim::LinkMap* map) {
  std::vector<SectionInfo> out;
  std::map<size_t, size_t> by_index;  // ELF section index -> out index
  for (size_t i = 0; i < elf.sections.size(); ++i) {
    const sim::ElfSection& s = elf.sections[i];
    if (!(s.flags & sim::kShfAlloc) || s.size == 0) continue;
    SectionInfo info;
    info.name = s.name;
    info.kind = size_class(s);
    info.region = info.kind == "text" ? "flash" : info.kind == "data" ? "flash+RAM" : "RAM";
    info.address = s.addr;
    info.bytes = s.size;
    by_index[i] = out.size();
    out.push_back(std::move(info));
  }
  // Object files by address, from the map's input sections.
  std::vector<const sim::LinkMapEntry*> contrib;
  if (map)
    for (const auto& e : map->entries)
      if (e.size) contrib.push_back(&e);
  std::sort(contrib.begin(), contrib.end(),
            [](auto* a, auto* b) { return a->address < b->address; });
  auto file_at = [&](uint32_t address) -> std::string {
    auto it =
        std::upper_bound(contrib.begin(), contrib.end(), address,
                         [](uint32_t a, const sim::LinkMapEntry* e) { return a < e->address; });
    if (it == contrib.begin()) return "";
    --it;
    return address < (*it)->address + (*it)->size ? (*it)->file : "";
  };
  // Symbols with a size in an allocated section, each address range counted once.
  std::map<size_t, std::vector<const sim::ElfSymbolEntry*>> syms;
  for (const auto& s : elf.symbol_table) {
    if (s.size == 0 || (s.type != sim::kSttFunc && s.type != sim::kSttObject)) continue;
    auto it = by_index.find(s.section);
    if (it != by_index.end()) syms[it->second].push_back(&s);
  }
  for (auto& [idx, list] : syms) {
    SectionInfo& sec = out[idx];
    std::sort(list.begin(), list.end(), [](auto* a, auto* b) {
      return (a->value & ~1u) != (b->value & ~1u) ? (a->value & ~1u) < (b->value & ~1u)
                                                  : a->size > b->size;
    });
    uint64_t covered_to = sec.address;
    const uint64_t sec_end = uint64_t{sec.address} + sec.bytes;
    for (const auto* s : list) {
      const uint64_t lo = std::max<uint64_t>(s->value & ~1u, covered_to);
      const uint64_t hi = std::min<uint64_t>(uint64_t{s->value & ~1u} + s->size, sec_end);
      if (hi <= lo) continue;
      Item item{demangle(s->name),
                sec.name,
                s->type == sim::kSttFunc ? "function" : "object",
                tag_of(s->name, sec.name),
                file_at(s->value & ~1u),
                s->value & ~1u,
                hi - lo};
      sec.items.push_back(std::move(item));
      covered_to = hi;
    }
  }
  for (SectionInfo& sec : out) {
    uint64_t covered = 0;
    for (const Item& i : sec.items) covered += i.bytes;
    if (covered < sec.bytes)
      sec.items.push_back({"(no symbol in " + sec.name + ")", sec.name, "unnamed",
                           tag_of("", sec.name), "", sec.address, sec.bytes - covered});
    std::sort(sec.items.begin(), sec.items.end(),
              [](const Item& a, const Item& b) { return a.bytes > b.bytes; });
  }
  std::sort(out.begin(), out.end(),
            [](const SectionInfo& a, const SectionInfo& b) { return a.bytes > b.bytes; });
  return out;
}

struct Rect {
  double x, y, w, h;
};

// Squarified treemap (Bruls, Huizing, van Wijk): `sizes` sorted descending, laid out in `r`.
std::vector<Rect> squarify(const std::vector<double>& sizes, Rect r) {
  std::vector<Rect> out(sizes.size(), Rect{r.x, r.y, 0, 0});
  double total = 0;
  for (double s : sizes) total += s;
  if (total <= 0 || r.w <= 0 || r.h <= 0) return out;
  const double scale = r.w * r.h / total;
  size_t i = 0;
  while (i < sizes.size()) {
    const double side = std::min(r.w, r.h);
    auto worst = [&](size_t from, size_t to) -> double {
      double sum = 0, mx = 0, mn = INFINITY;
      for (size_t k = from; k < to; ++k) {
        const double a = sizes[k] * scale;
        sum += a;
        mx = std::max(mx, a);
        mn = std::min(mn, a);
      }
      if (sum <= 0 || mn <= 0) return INFINITY;
      return std::max(side * side * mx / (sum * sum), sum * sum / (side * side * mn));
    };
    size_t j = i + 1;
    while (j < sizes.size() && worst(i, j + 1) <= worst(i, j)) ++j;
    double sum = 0;
    for (size_t k = i; k < j; ++k) sum += sizes[k] * scale;
    const double thick = sum / side;
    double at = 0;
    for (size_t k = i; k < j; ++k) {
      const double len = sum > 0 ? sizes[k] * scale / thick : 0;
      out[k] = r.w >= r.h ? Rect{r.x, r.y + at, thick, len} : Rect{r.x + at, r.y, len, thick};
      at += len;
    }
    if (r.w >= r.h) {
      r.x += thick;
      r.w -= thick;
    } else {
      r.y += thick;
      r.h -= thick;
    }
    i = j;
  }
  return out;
}

std::string f1(double v) { return fmt::format("{:.1f}", v); }

std::string treemap_svg(const std::vector<SectionInfo>& sections, uint64_t total) {
  const double w = 1000, h = 560;
  std::string s = fmt::format(
      "<svg id=\"treemap\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" data-total=\"{2}\" "
      "role=\"img\" "
      "aria-label=\"treemap of allocated sections and their symbols, area = bytes\">\n"
      "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\"><path "
      "d=\"M0,6 "
      "L6,0\" stroke=\"#222\" stroke-width=\"1\"/></pattern></defs>\n",
      w, h, total);
  std::vector<double> sizes;
  for (const auto& sec : sections) sizes.push_back(static_cast<double>(sec.bytes));
  const std::vector<Rect> rs = squarify(sizes, {0, 0, w, h});
  for (size_t i = 0; i < sections.size(); ++i) {
    const SectionInfo& sec = sections[i];
    const Rect r = rs[i];
    s += fmt::format("<g class=\"section\" data-name=\"{}\" data-bytes=\"{}\">",
                     html::escape(sec.name), sec.bytes);
    s += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f4f4f4\" stroke=\"#000\" "
        "stroke-width=\"1.5\"><title>{} ({}, {}): {} bytes</title></rect>",
        f1(r.x), f1(r.y), f1(r.w), f1(r.h), html::escape(sec.name), sec.kind, sec.region,
        sec.bytes);
    const double head = r.h > 30 && r.w > 40 ? 14 : 0;
    if (head > 0)
      s += fmt::format("<text x=\"{}\" y=\"{}\" font-weight=\"bold\">{} {}</text>", f1(r.x + 3),
                       f1(r.y + 11), html::escape(sec.name), html::escape(html::bytes(sec.bytes)));
    std::vector<double> leaf;
    for (const Item& it : sec.items) leaf.push_back(static_cast<double>(it.bytes));
    const std::vector<Rect> ls = squarify(
        leaf, {r.x + 2, r.y + head + 1, std::max(0.0, r.w - 4), std::max(0.0, r.h - head - 3)});
    for (size_t k = 0; k < sec.items.size(); ++k) {
      const Item& it = sec.items[k];
      const Rect q = ls[k];
      const std::string fill = !it.tag.empty()        ? "url(#hatch)"
                               : it.kind == "unnamed" ? "#fff"
                                                      : "#d0d0d0";
      s += fmt::format(
          "<g class=\"leaf\" data-bytes=\"{}\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" "
          "fill=\"{}\" stroke=\"#555\" stroke-width=\"0.5\"><title>{}{} in {}: {} "
          "bytes{}</title></rect>",
          it.bytes, f1(q.x), f1(q.y), f1(q.w), f1(q.h), fill,
          it.tag.empty() ? "" : "[" + it.tag + "] ", html::escape(it.name), html::escape(sec.name),
          it.bytes, it.file.empty() ? "" : " (" + html::escape(it.file) + ")");
      const std::string label = (it.tag.empty() ? "" : "[" + it.tag + "] ") + short_name(it.name);
      if (q.w > 50 && q.h > 13) {
        const size_t fit = static_cast<size_t>(q.w / 6);
        s += fmt::format(
            "<text x=\"{}\" y=\"{}\">{}</text>", f1(q.x + 2), f1(q.y + 11),
            html::escape(label.size() > fit ? label.substr(0, fit > 1 ? fit - 1 : 0) + "…"
                                            : label));
      }
      s += "</g>";
    }
    s += "</g>\n";
  }
  s += "</svg>\n";
  return s;
}

std::map<std::string, uint64_t> symbol_bytes(const std::vector<SectionInfo>& sections) {
  std::map<std::string, uint64_t> m;
  for (const auto& sec : sections)
    for (const Item& it : sec.items) m[it.name] += it.bytes;
  return m;
}

sim::ElfImage load_elf(const std::string& path) {
  try {
    return sim::read_elf(path);
  } catch (const sim::Error& e) {
    const std::string what = e.what();
    throw tinyforge::Error(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
}

// Every symbol whose size differs between `before` and `now`, the largest change first.
ordered_json symbol_changes(const std::map<std::string, uint64_t>& before,
                            const std::map<std::string, uint64_t>& now) {
  ordered_json changes = ordered_json::array();
  std::set<std::string> names;
  for (const auto& [n, _] : now) names.insert(n);
  for (const auto& [n, _] : before) names.insert(n);
  for (const std::string& n : names) {
    const int64_t a = before.count(n) ? static_cast<int64_t>(before.at(n)) : 0;
    const int64_t b = now.count(n) ? static_cast<int64_t>(now.at(n)) : 0;
    if (a != b)
      changes.push_back({{"name", n},
                         {"before_bytes", a},
                         {"after_bytes", b},
                         {"delta_bytes", b - a},
                         {"status", !a      ? "added"
                                    : !b    ? "removed"
                                    : b > a ? "grown"
                                            : "shrunk"}});
  }
  std::sort(changes.begin(), changes.end(), [](const ordered_json& x, const ordered_json& y) {
    return std::llabs(x["delta_bytes"].get<int64_t>()) >
           std::llabs(y["delta_bytes"].get<int64_t>());
  });
  return changes;
}

// The result (docs/cli.md): totals, sections and symbols, and with --against each symbol's
// and the total's change against the older image's `old_sections`.
ordered_json describe(const Options& o, const std::vector<SectionInfo>& sections,
                      const std::vector<SectionInfo>* old_sections) {
  uint64_t text = 0, data = 0, bss = 0;
  for (const auto& s : sections)
    (s.kind == "text" ? text : s.kind == "data" ? data : bss) += s.bytes;
  const uint64_t total = text + data + bss;
  const std::map<std::string, uint64_t> before =
      old_sections ? symbol_bytes(*old_sections) : std::map<std::string, uint64_t>{};

  ordered_json j;
  j["elf"] = o.elf;
  if (!o.map.empty()) j["map"] = o.map;
  if (old_sections) j["against"] = o.against;
  j["text_bytes"] = text;
  j["data_bytes"] = data;
  j["bss_bytes"] = bss;
  j["flash_bytes"] = text + data;
  j["ram_bytes"] = data + bss;
  j["total_bytes"] = total;
  j["sections"] = ordered_json::array();
  for (const auto& s : sections)
    j["sections"].push_back({{"name", s.name},
                             {"address", s.address},
                             {"bytes", s.bytes},
                             {"region", s.region},
                             {"kind", s.kind}});
  j["symbols"] = ordered_json::array();
  for (const auto& sec : sections)
    for (const Item& it : sec.items) {
      ordered_json js = {{"name", it.name},
                         {"section", it.section},
                         {"address", it.address},
                         {"bytes", it.bytes},
                         {"kind", it.kind}};
      if (!it.tag.empty()) js["tag"] = it.tag;
      if (!it.file.empty()) js["file"] = it.file;
      if (old_sections) {
        const auto b = before.find(it.name);
        js["before_bytes"] = b == before.end() ? 0 : b->second;
        js["delta_bytes"] = static_cast<int64_t>(it.bytes) -
                            static_cast<int64_t>(js["before_bytes"].get<uint64_t>());
      }
      j["symbols"].push_back(js);
    }
  if (old_sections) {
    int64_t old_total = 0;
    for (const auto& s : *old_sections) old_total += static_cast<int64_t>(s.bytes);
    j["changes"] = symbol_changes(before, symbol_bytes(sections));
    j["total_delta_bytes"] = static_cast<int64_t>(total) - old_total;
  }
  j["output"] = o.output;
  return j;
}

// The page of a described image: summary, change table, treemap, sections, symbols.
std::string render_page(const Options& o, const ordered_json& j,
                        const std::vector<SectionInfo>& sections, const sim::ElfImage& elf) {
  const auto text = j["text_bytes"].get<uint64_t>(), data = j["data_bytes"].get<uint64_t>(),
             bss = j["bss_bytes"].get<uint64_t>(), total = j["total_bytes"].get<uint64_t>();
  const bool against = j.contains("changes");
  std::string s = html::page_begin("tinyforge mapview: " + o.elf);
  s += "<h1>tinyforge mapview: " + html::escape(o.elf) + "</h1>\n<dl class=\"kv\">";
  auto kv = [&s](const std::string& k, const std::string& v) {
    s += "<dt>" + html::escape(k) + "</dt><dd>" + html::escape(v) + "</dd>";
  };
  kv("flash", fmt::format("{} bytes (text {} + data {})", text + data, text, data));
  kv("RAM (static)", fmt::format("{} bytes (data {} + bss {})", data + bss, data, bss));
  kv("total", fmt::format("{} bytes = text + data + bss, as arm-none-eabi-size counts", total));
  std::map<std::string, const Item*> largest;  // per tag
  for (const auto& sec : sections)
    for (const Item& it : sec.items)
      if (!it.tag.empty() && (!largest.count(it.tag) || largest[it.tag]->bytes < it.bytes))
        largest[it.tag] = &it;
  for (const auto& [tag, it] : largest)
    kv(tag, fmt::format("{}: {} bytes in {}", it->name, it->bytes, it->section));
  if (auto lim = elf.symbol("__stack_limit"), top = elf.symbol("__StackTop");
      lim && top && top->value > lim->value)
    kv("stack",
       fmt::format("{} bytes reserved from __stack_limit to __StackTop (outside the sections)",
                   top->value - lim->value));
  if (!o.map.empty()) kv("link map", o.map);
  s += "</dl>\n";
  if (against) {
    const int64_t delta = j["total_delta_bytes"].get<int64_t>();
    s += fmt::format("<h2>Change against {}</h2>\n<p>total {} → {} bytes ({:+d})</p>\n",
                     html::escape(o.against), static_cast<int64_t>(total) - delta, total, delta);
    s += "<table id=\"changes\" class=\"sortable\"><thead><tr><th>symbol</th><th>status</th>"
         "<th class=\"n\">before</th><th class=\"n\">after</th><th "
         "class=\"n\">delta</th></tr></thead><tbody>\n";
    for (const auto& c : j["changes"])
      s += fmt::format(
          "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
          "<td class=\"n\">{:+d}</td></tr>\n",
          html::escape(c["name"].get<std::string>()), c["status"].get<std::string>(),
          c["before_bytes"].get<int64_t>(), c["after_bytes"].get<int64_t>(),
          c["delta_bytes"].get<int64_t>());
    s += "</tbody></table>\n";
  }
  s += "<h2>Treemap</h2>\n<p class=\"note\">Area = bytes. Thick boxes are sections, the boxes "
       "inside "
       "their symbols; hatched boxes are tagged ([model weights], [arena], [stack]), white boxes "
       "are "
       "bytes no symbol covers. Hover for names and sizes.</p>\n";
  s += treemap_svg(sections, total);
  s += "<h2>Sections</h2>\n<table id=\"sections\" class=\"sortable\"><thead><tr><th>section</th>"
       "<th>class</th><th>region</th><th class=\"n\">address</th><th "
       "class=\"n\">bytes</th></tr></thead><tbody>\n";
  for (const auto& sec : sections)
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\" data-v=\"{}\">0x{:08x}</td>"
        "<td class=\"n\">{}</td></tr>\n",
        html::escape(sec.name), sec.kind, sec.region, sec.address, sec.address, sec.bytes);
  s += "</tbody></table>\n<h2>Symbols</h2>\n<input type=\"search\" placeholder=\"filter symbols\" "
       "data-filter=\"symbols\" aria-label=\"filter symbols\">\n<table id=\"symbols\" "
       "class=\"sortable\"><thead>"
       "<tr><th>symbol</th><th>tag</th><th>kind</th><th>section</th><th>object file</th>"
       "<th class=\"n\">address</th><th class=\"n\">bytes</th>";
  if (against) s += "<th class=\"n\">delta</th>";
  s += "</tr></thead><tbody>\n";
  for (const auto& js : j["symbols"]) {
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td class=\"n\" data-v=\"{}\">0x{:08x}</td><td class=\"n\">{}</td>",
        html::escape(js["name"].get<std::string>()), html::escape(js.value("tag", "")),
        js["kind"].get<std::string>(), html::escape(js["section"].get<std::string>()),
        html::escape(js.value("file", "")), js["address"].get<uint32_t>(),
        js["address"].get<uint32_t>(), js["bytes"].get<uint64_t>());
    if (against) s += fmt::format("<td class=\"n\">{:+d}</td>", js["delta_bytes"].get<int64_t>());
    s += "</tr>\n";
  }
  s += "</tbody></table>\n";
  return s + html::page_end();
}

void mapview(const Options& o) {
  std::vector<std::string> inputs = {o.elf};
  if (!o.map.empty()) inputs.push_back(o.map);
  if (!o.against.empty()) inputs.push_back(o.against);
  check_output(o.output, inputs);
  const sim::ElfImage elf = load_elf(o.elf);
  if (!elf.has_symtab) warn(o.elf + ": no symbol table (stripped): sections only");
  std::optional<sim::LinkMap> map;
  if (!o.map.empty()) {
    try {
      map = sim::read_link_map(o.map);
    } catch (const sim::Error& e) {
      throw tinyforge::Error(e.what());
    }
  }
  const std::vector<SectionInfo> sections = analyse(elf, map ? &*map : nullptr);
  std::vector<SectionInfo> old_sections;
  if (!o.against.empty()) old_sections = analyse(load_elf(o.against), nullptr);
  const ordered_json j = describe(o, sections, o.against.empty() ? nullptr : &old_sections);
  const std::string page = render_page(o, j, sections, elf);
  io::write_file(o.output, std::vector<uint8_t>(page.begin(), page.end()));

  std::string txt = fmt::format(
      "wrote {}: flash {} B (text {} + data {}), RAM {} B (data {} + bss {}), "
      "{} sections, {} symbols\n",
      o.output, j["flash_bytes"].get<uint64_t>(), j["text_bytes"].get<uint64_t>(),
      j["data_bytes"].get<uint64_t>(), j["ram_bytes"].get<uint64_t>(),
      j["data_bytes"].get<uint64_t>(), j["bss_bytes"].get<uint64_t>(), sections.size(),
      j["symbols"].size());
  if (j.contains("changes"))
    txt += fmt::format("  against {}: {:+d} bytes, {} symbol(s) changed\n", o.against,
                       j["total_delta_bytes"].get<int64_t>(), j["changes"].size());
  o.result.print(j, txt);
}

}  // namespace

void add_mapview(CLI::App& app) {
  auto* cmd = app.add_subcommand("mapview",
                                 "Flash and RAM of an ARM ELF by section and symbol: an HTML "
                                 "treemap and table (--against: the change)");
  auto o = std::make_shared<Options>();
  cmd->add_option("ELF", o->elf,
                  "a 32-bit little-endian ARM ELF (e.g. tinyforge firmware's firmware.elf)")
      ->required();
  cmd->add_option("--map", o->map,
                  "the GNU ld map file of that link: the object file of every symbol");
  cmd->add_option("--against", o->against, "an older ELF: per-symbol bytes added or removed");
  cmd->add_option("-o,--output", o->output, "the HTML file to write")->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "Totals follow arm-none-eabi-size (text + data + bss of the allocated sections).\n"
      "Exit codes: 0 ok, 1 input error (unreadable or damaged ELF or map), 2 usage (docs/cli.md).");
  cmd->callback([o] { mapview(*o); });
}

}  // namespace tinyforge::cli
