// tinyforge report MODEL --target T [--board B] [--float FLOAT_MODEL] [--input F] [--case N]
//                        [--budget ...] -o report.html [--json]
// One self-contained HTML page (and with --json the same data as one JSON object) telling
// where cycles, RAM and flash go: per-layer table with the emulator's per-op cycle
// estimates, the arena timeline, the flash breakdown, a budget verdict and, with --float,
// the int8-vs-float error (SQNR) per layer. docs/report.md.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/html_page.h"
#include "cli/profile.h"
#include "host/compile.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "sim/budget.h"
#include "tinyforge/ops.h"

namespace tinyforge::cli {
namespace {

using nlohmann::ordered_json;

struct Options {
  std::string model, target = "cortex-m4", board, float_model, output, budget;
  std::vector<std::string> inputs;
  uint32_t case_index = 0;
  uint64_t max_instructions = sim::RunOptions{}.max_instructions;
  Result result;
};

ordered_json tensor_json(const plan::PlanTensor& t) {
  return {
      {"name", t.name}, {"dtype", dtype_name(t.type)}, {"shape", t.shape}, {"bytes", t.bytes()}};
}

// Plain float values of an op output: int8/int16 dequantized with the tensor's scale and
// zero point, float32 as is; empty when it cannot be read as real numbers.
std::vector<double> real_values(const plan::PlanTensor& t, const std::vector<uint8_t>& b) {
  std::vector<double> v;
  if (t.type == DType::f32) {
    v.resize(b.size() / 4);
    for (size_t i = 0; i < v.size(); ++i) {
      float x;
      std::memcpy(&x, b.data() + 4 * i, 4);
      v[i] = x;
    }
  } else if (t.type == DType::i8 && t.scale > 0) {
    v.resize(b.size());
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = (static_cast<int8_t>(b[i]) - t.zero_point) * static_cast<double>(t.scale);
  }
  return v;
}

// Signal-to-quantization-noise ratio in dB of `q` against the float reference `f`;
// nullopt when undefined (no signal), +inf reported as 999.
std::optional<double> sqnr_db(const std::vector<double>& f, const std::vector<double>& q) {
  if (f.empty() || f.size() != q.size()) return std::nullopt;
  double signal = 0, noise = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    signal += f[i] * f[i];
    noise += (f[i] - q[i]) * (f[i] - q[i]);
  }
  if (signal == 0) return std::nullopt;
  if (noise == 0) return 999.0;
  return 10.0 * std::log10(signal / noise);
}

// The float model's input for the int8 model's input bytes: dequantized when the int8
// model takes int8, the same bytes when both take float32.
std::vector<uint8_t> float_input(const plan::PlanTensor& q, const plan::PlanTensor& f,
                                 const std::vector<uint8_t>& bytes, const std::string& float_path) {
  if (f.type != DType::f32)
    throw tinyforge::Error(float_path + ": --float must be a float32 model (its input is " +
                           dtype_name(f.type) + ")");
  if (q.type == DType::f32) return bytes;
  const std::vector<double> v = real_values(q, bytes);
  if (v.empty())
    throw tinyforge::Error(
        fmt::format("{}: input '{}' is {} without a scale: cannot feed the float model", float_path,
                    q.name, dtype_name(q.type)));
  std::vector<uint8_t> out(v.size() * 4);
  for (size_t i = 0; i < v.size(); ++i) {
    const float x = static_cast<float>(v[i]);
    std::memcpy(out.data() + 4 * i, &x, 4);
  }
  return out;
}

// Per-op SQNR of the int8 model's op outputs against the float model's, matched by output
// tensor name, else by op position when both plans have as many ops.
void add_sqnr(ordered_json& j, const host::Compiled& q, const OpOutputs& q_out, const Options& o,
              const std::vector<std::vector<uint8_t>>& inputs) {
  const host::Compiled f =
      host::compile_model_file(o.float_model, host::plan_options_for_target("host"));
  if (f.plan.inputs.size() != q.plan.inputs.size())
    throw tinyforge::Error(fmt::format("{}: has {} input(s), {} has {}", o.float_model,
                                       f.plan.inputs.size(), o.model, q.plan.inputs.size()));
  std::vector<std::vector<uint8_t>> f_inputs;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const plan::PlanTensor& qi = q.plan.tensors[q.plan.inputs[i]];
    const plan::PlanTensor& fi = f.plan.tensors[f.plan.inputs[i]];
    f_inputs.push_back(float_input(qi, fi, inputs[i], o.float_model));
    if (f_inputs.back().size() != fi.bytes())
      throw tinyforge::Error(fmt::format("{}: input '{}' takes {} bytes, the int8 model's gives {}",
                                         o.float_model, fi.name, fi.bytes(),
                                         f_inputs.back().size()));
  }
  const OpOutputs f_out = host_op_outputs(f.blob, o.float_model, f_inputs);
  std::map<std::string, std::pair<size_t, size_t>> by_name;
  for (size_t i = 0; i < f.plan.ops.size(); ++i)
    for (size_t k = 0; k < f.plan.ops[i].outputs.size(); ++k)
      by_name.emplace(f.plan.tensors[f.plan.ops[i].outputs[k]].name, std::make_pair(i, k));
  const bool same_count = f.plan.ops.size() == q.plan.ops.size();
  size_t matched = 0;
  for (size_t i = 0; i < q.plan.ops.size(); ++i) {
    ordered_json& jo = j["ops"][i];
    jo["sqnr_db"] = nullptr;
    const plan::PlanOp& op = q.plan.ops[i];
    if (op.outputs.empty() || q_out[i].empty()) continue;
    const plan::PlanTensor& qt = q.plan.tensors[op.outputs[0]];
    std::optional<std::pair<size_t, size_t>> at;
    if (auto it = by_name.find(qt.name); !qt.name.empty() && it != by_name.end())
      at = it->second;
    else if (same_count && !f.plan.ops[i].outputs.empty())
      at = std::make_pair(i, size_t{0});
    if (!at) continue;
    const plan::PlanTensor& ft = f.plan.tensors[f.plan.ops[at->first].outputs[at->second]];
    const auto s =
        sqnr_db(real_values(ft, f_out[at->first][at->second]), real_values(qt, q_out[i][0]));
    if (!s) continue;
    jo["sqnr_db"] = std::round(*s * 100) / 100;
    jo["float_tensor"] = ft.name;
    ++matched;
  }
  j["float_model"] = o.float_model;
  j["sqnr_layers_matched"] = matched;
}

ordered_json arena_json(const plan::Plan& plan) {
  const int n = static_cast<int>(plan.ops.size());
  std::vector<int> first(plan.tensors.size(), n + 1), last(plan.tensors.size(), -2);
  auto touch = [&](uint16_t t, int at) {
    if (t >= plan.tensors.size() || plan.tensors[t].storage != Storage::arena) return;
    first[t] = std::min(first[t], at);
    last[t] = std::max(last[t], at);
  };
  for (uint16_t t : plan.inputs) touch(t, -1);
  for (int i = 0; i < n; ++i) {
    for (uint16_t t : plan.ops[i].inputs) touch(t, i);
    for (uint16_t t : plan.ops[i].outputs) touch(t, i);
  }
  for (uint16_t t : plan.outputs) touch(t, n);
  ordered_json buffers = ordered_json::array();
  struct Live {
    int first, last;
    uint32_t offset, bytes;
  };
  std::vector<Live> all;
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    if (last[t] < -1) continue;
    const plan::PlanTensor& x = plan.tensors[t];
    buffers.push_back({{"kind", "tensor"},
                       {"tensor", t},
                       {"name", x.name},
                       {"offset", x.arena_offset},
                       {"bytes", x.bytes()},
                       {"first", first[t]},
                       {"last", last[t]}});
    all.push_back({first[t], last[t], x.arena_offset, x.bytes()});
  }
  for (int i = 0; i < n; ++i) {
    const plan::PlanOp& op = plan.ops[i];
    if (!op.scratch_size) continue;
    buffers.push_back({{"kind", "scratch"},
                       {"op", i},
                       {"name", fmt::format("scratch of op {}", i)},
                       {"offset", op.scratch_offset},
                       {"bytes", op.scratch_size},
                       {"first", i},
                       {"last", i}});
    all.push_back({i, i, op.scratch_offset, op.scratch_size});
  }
  // Per step: the highest byte in use and the bytes alive; the peak is the first step with
  // the highest byte in use (ties: the most bytes alive).
  ordered_json steps = ordered_json::array();
  int peak = -1;
  uint64_t peak_high = 0, peak_live = 0;
  for (int s = -1; s <= n; ++s) {
    uint64_t high = 0, live = 0;
    for (const Live& b : all)
      if (b.first <= s && s <= b.last) {
        high = std::max<uint64_t>(high, uint64_t{b.offset} + b.bytes);
        live += b.bytes;
      }
    steps.push_back({{"step", s}, {"high_water", high}, {"live_bytes", live}});
    if (high > peak_high || (high == peak_high && live > peak_live)) {
      peak = s;
      peak_high = high;
      peak_live = live;
    }
  }
  return {{"bytes", plan.arena_size},     {"peak_step", peak}, {"peak_high_water", peak_high},
          {"peak_live_bytes", peak_live}, {"steps", steps},    {"buffers", buffers}};
}

std::string shapes_text(const ordered_json& list) {
  std::string s;
  for (const auto& t : list) {
    if (!s.empty()) s += " ";
    s += "[" + fmt::format("{}", fmt::join(t["shape"].get<std::vector<int32_t>>(), "x")) + "]";
  }
  return s;
}

std::string num(double v) { return fmt::format("{:.1f}", v); }

std::string arena_svg(const ordered_json& a, size_t num_ops) {
  const double w = 900, h = 320, left = 70, top = 20, bottom = 40;
  const double arena = std::max<double>(1, a["bytes"].get<double>());
  const double steps = static_cast<double>(num_ops) + 2;  // -1 .. num_ops
  const double cw = (w - left - 10) / steps, ch = (h - top - bottom) / arena;
  auto x_at = [&](double step) { return left + (step + 1) * cw; };
  auto y_at = [&](double offset) { return top + offset * ch; };
  std::string s = fmt::format(
      "<svg id=\"arena-svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"arena timeline: tensor lifetimes (x, op index) by arena offset (y, bytes)\">\n",
      w, h, w, h);
  s += "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\">"
       "<path d=\"M0,6 L6,0\" stroke=\"#333\" stroke-width=\"1\"/></pattern></defs>\n";
  s += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n",
      num(left), num(top), num(cw * steps), num(arena * ch));
  for (const auto& b : a["buffers"]) {
    const double x0 = x_at(b["first"].get<double>()), x1 = x_at(b["last"].get<double>() + 1);
    const double y0 = y_at(b["offset"].get<double>());
    const double bh = std::max(1.0, b["bytes"].get<double>() * ch);
    const bool scratch = b["kind"] == "scratch";
    const std::string label = scratch ? fmt::format("s{}", b["op"].get<int>())
                                      : fmt::format("t{}", b["tensor"].get<int>());
    s += fmt::format(
        "<g class=\"buf\"><title>{}: {} bytes at offset {}, ops {}..{}</title>"
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#222\" "
        "stroke-width=\"0.5\"/>",
        html::escape(label + " " + b["name"].get<std::string>()), b["bytes"].get<uint64_t>(),
        b["offset"].get<uint64_t>(), b["first"].get<int>(), b["last"].get<int>(), num(x0), num(y0),
        num(std::max(1.0, x1 - x0)), num(bh), scratch ? "url(#hatch)" : "#c8c8c8");
    if (bh >= 11 && x1 - x0 >= 18)
      s += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", num(x0 + 2),
                       num(y0 + std::min(bh, 20.0) - 2), html::escape(label));
    s += "</g>\n";
  }
  const int peak = a["peak_step"].get<int>();
  const double px = x_at(peak + 0.5), py = y_at(a["peak_high_water"].get<double>());
  s += fmt::format(
      "<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"#000\" stroke-width=\"2\" "
      "stroke-dasharray=\"5,3\"/><line x1=\"{3}\" y1=\"{4}\" x2=\"{5}\" y2=\"{4}\" stroke=\"#000\" "
      "stroke-dasharray=\"2,2\"/><text id=\"arena-peak\" x=\"{6}\" y=\"{7}\" font-weight=\"bold\">"
      "peak: {8} bytes in use at {9}</text>\n",
      num(px), num(top), num(top + arena * ch), num(left), num(py), num(left + cw * steps),
      num(std::min(px + 4, w - 260)), num(top - 6), a["peak_high_water"].get<uint64_t>(),
      peak < 0 ? std::string("the model input") : fmt::format("op {}", peak));
  s += fmt::format("<text x=\"4\" y=\"{}\">offset 0</text><text x=\"4\" y=\"{}\">{} B</text>\n",
                   num(top + 8), num(top + arena * ch), a["bytes"].get<uint64_t>());
  const size_t every = std::max<size_t>(1, (num_ops + 1) / 20);
  for (size_t i = 0; i < num_ops; i += every)
    s +=
        fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", num(x_at(i) + 1), num(h - bottom + 14), i);
  s += fmt::format(
      "<text x=\"{}\" y=\"{}\">op index (time) →   input at left, output at right</text>\n",
      num(left), num(h - 6));
  s += "</svg>\n";
  return s;
}

// Target, board, cycles, RAM and flash at a glance, and the budget's verdict.
std::string summary_html(const ordered_json& j) {
  const std::string model = j["model"].get<std::string>();
  std::string s = "<h1>tinyforge report: " + html::escape(model) + "</h1>\n";
  s += "<dl class=\"kv\">";
  auto kv = [&s](const std::string& k, const std::string& v) {
    s += "<dt>" + html::escape(k) + "</dt><dd>" + html::escape(v) + "</dd>";
  };
  kv("target",
     j["target"].get<std::string>() + " (" + j["kernels"].get<std::string>() + " kernels)");
  kv("board", fmt::format("{} at {:g} MHz, {} memory map", j["board"].get<std::string>(),
                          j["clock_mhz"].get<double>(), j["memory_map"].get<std::string>()));
  kv("cycles (estimate)",
     fmt::format("{} cycles, {} instructions, {}", j["cycles_estimate"].get<uint64_t>(),
                 j["instructions"].get<uint64_t>(),
                 sim::format_seconds(j["latency_us"].get<double>() * 1e-6)));
  kv("RAM",
     fmt::format("{} bytes = arena {} + stack {} + other static {}",
                 j["ram"]["bytes"].get<uint64_t>(), j["ram"]["arena_used_bytes"].get<uint64_t>(),
                 j["ram"]["stack_bytes"].get<uint64_t>(),
                 j["ram"]["static_other_bytes"].get<uint64_t>()));
  kv("flash", fmt::format("{} bytes = code {} + model {}", j["flash"]["bytes"].get<uint64_t>(),
                          j["flash"]["code_bytes"].get<uint64_t>(),
                          j["flash"]["model_bytes"].get<uint64_t>()));
  s += "</dl>\n";
  s += "<p class=\"note\" id=\"cycle-source\">" +
       html::escape(j["cycle_source"].get<std::string>()) + "</p>\n";

  if (j.contains("budget")) {
    const auto& b = j["budget"];
    s += "<h2>Budget</h2>\n";
    if (b["over"].empty())
      s += "<p class=\"verdict-ok\" id=\"budget-verdict\">Verdict: OK, within the budget " +
           html::escape(b["text"].get<std::string>()) + "</p>\n";
    else {
      s += "<p class=\"verdict-over\" id=\"budget-verdict\">Verdict: OVER BUDGET (" +
           html::escape(b["text"].get<std::string>()) + ")</p><ul>";
      for (const auto& line : b["over"])
        s += "<li>OVER: " + html::escape(line.get<std::string>()) + "</li>";
      s += "</ul>\n";
    }
  }

  return s;
}

// The per-layer table: cycles, MACs, bytes moved, and SQNR when a float model was given.
std::string layers_html(const ordered_json& j) {
  std::string s;
  const bool sqnr = j.contains("float_model");
  s += "<h2>Layers</h2>\n<p class=\"note\">Click a column header to sort. Cycles: the emulator's "
       "estimate between the op's marker and the previous one; % of the inference's total. Bytes "
       "moved: every input (weights included) and output of the op, read or written once.";
  if (sqnr)
    s += " SQNR: int8 output against the float model's (" +
         html::escape(j["float_model"].get<std::string>()) +
         "), 10·log10(Σf²/Σ(f−q)²) dB, higher is better.";
  s += "</p>\n<input type=\"search\" placeholder=\"filter layers\" data-filter=\"layers\" "
       "aria-label=\"filter layers\">\n";
  s += "<table id=\"layers\" class=\"sortable\"><thead><tr><th class=\"n\">#</th><th>op</th>"
       "<th>kernel</th><th>name</th><th>input shapes</th><th>output shapes</th><th "
       "class=\"n\">MACs</th>"
       "<th class=\"n\">params</th><th class=\"n\">cycles (est.)</th><th class=\"n\">% cycles</th>"
       "<th class=\"n\">bytes moved</th>";
  if (sqnr) s += "<th class=\"n\">SQNR dB</th>";
  s += "</tr></thead>\n<tbody>\n";
  double top_pct = 0;
  for (const auto& o : j["ops"]) top_pct = std::max(top_pct, o["cycles_pct"].get<double>());
  for (const auto& o : j["ops"]) {
    const double pct = o["cycles_pct"].get<double>();
    s += fmt::format("<tr class=\"op{}\">", pct == top_pct ? " hot" : "");
    s += fmt::format("<td class=\"n\">{}</td>", o["index"].get<int>());
    s += "<td>" + html::escape(o["op"].get<std::string>()) + "</td>";
    s += "<td>" + html::escape(o["kernel"].get<std::string>()) + "</td>";
    s += "<td>" + html::escape(o["name"].get<std::string>()) + "</td>";
    s += "<td>" + html::escape(shapes_text(o["inputs"])) + "</td>";
    s += "<td>" + html::escape(shapes_text(o["outputs"])) + "</td>";
    s += fmt::format("<td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
                     o["macs"].get<int64_t>(), o["params"].get<int64_t>(),
                     o["cycles"].get<uint64_t>());
    s += fmt::format(
        "<td class=\"n\" data-v=\"{:.2f}\"><span class=\"bar\" style=\"width:{:.0f}px\"></span> "
        "{:.1f}%{}</td>",
        pct, pct, pct, pct == top_pct ? " (top)" : "");
    s += fmt::format("<td class=\"n\">{}</td>", o["bytes_moved"].get<uint64_t>());
    if (sqnr)
      s += o["sqnr_db"].is_null()
               ? std::string("<td class=\"n\" data-v=\"\">n/a</td>")
               : fmt::format("<td class=\"n\">{:.2f}</td>", o["sqnr_db"].get<double>());
    s += "</tr>\n";
  }
  s += "</tbody></table>\n";
  s += fmt::format(
      "<p class=\"note\">Outside the ops (the runtime's loop after the last op, the bench "
      "markers): {} cycles.</p>\n",
      j["overhead_cycles"].get<uint64_t>());

  return s;
}

// The arena timeline picture and its buffers as a table.
std::string arena_html(const ordered_json& j) {
  std::string s;
  const auto& a = j["arena"];
  s += "<h2>Arena timeline</h2>\n";
  s += fmt::format(
      "<p class=\"note\">Each box is one buffer of the {}-byte arena: x = the ops during which it "
      "lives, y = its offset. Grey boxes are tensors (label t<i>N</i> = tensor N), hatched "
      "boxes are kernel scratch (s<i>N</i> = scratch of op N). The dashed line marks the peak. "
      "Hover a box for its name.</p>\n",
      a["bytes"].get<uint64_t>());
  s += arena_svg(a, j["ops"].size());
  s += "<details><summary>Arena buffers (table)</summary><table id=\"arena-buffers\" "
       "class=\"sortable\">"
       "<thead><tr><th>label</th><th>kind</th><th>name</th><th class=\"n\">offset</th>"
       "<th class=\"n\">bytes</th><th class=\"n\">first op</th><th class=\"n\">last "
       "op</th></tr></thead><tbody>\n";
  for (const auto& b : a["buffers"]) {
    const bool scratch = b["kind"] == "scratch";
    s += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
        scratch ? fmt::format("s{}", b["op"].get<int>())
                : fmt::format("t{}", b["tensor"].get<int>()),
        scratch ? "scratch" : "tensor", html::escape(b["name"].get<std::string>()),
        b["offset"].get<uint64_t>(), b["bytes"].get<uint64_t>(), b["first"].get<int>(),
        b["last"].get<int>());
  }
  s += "</tbody></table></details>\n";

  return s;
}

// Flash by part: code, weights, plan.
std::string flash_html(const ordered_json& j) {
  std::string s;
  const auto& f = j["flash"];
  s += "<h2>Flash</h2>\n<table id=\"flash\"><thead><tr><th>part</th><th class=\"n\">bytes</th>"
       "<th class=\"n\">share</th></tr></thead><tbody>\n";
  const double total = std::max<double>(1, f["bytes"].get<double>());
  for (const auto& [label, key] :
       {std::pair<const char*, const char*>{"code (runtime, kernels, startup)", "code_bytes"},
        {"model: weights and constants", "weight_bytes"},
        {"model: plan tables and params", "plan_bytes"}}) {
    const uint64_t v = f[key].get<uint64_t>();
    s += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\"><span class=\"bar\" "
        "style=\"width:{:.0f}px\"></span> {:.1f}%</td></tr>\n",
        label, v, 200.0 * v / total, 100.0 * v / total);
  }
  s += fmt::format("<tr><td><b>total flash</b></td><td class=\"n\"><b>{}</b></td><td></td></tr>\n",
                   f["bytes"].get<uint64_t>());
  s += "</tbody></table>\n";
  return s;
}

std::string render_html(const ordered_json& j) {
  return html::page_begin("tinyforge report: " + j["model"].get<std::string>()) + summary_html(j) +
         layers_html(j) + arena_html(j) + flash_html(j) + html::page_end();
}

void report(const Options& o) {
  const std::optional<sim::Budget> budget =
      o.budget.empty() ? std::nullopt : std::optional<sim::Budget>(sim::parse_budget(o.budget));
  std::vector<std::string> all_inputs = o.inputs;
  all_inputs.push_back(o.model);
  if (!o.float_model.empty()) all_inputs.push_back(o.float_model);
  check_output(o.output, all_inputs);
  const InputFile file = read_input(o.model);
  if (file.kind == FileKind::plan_blob)
    throw tinyforge::Error(o.model +
                           ": a compiled plan blob, not a model (give the .tflite or .onnx model: "
                           "the report needs its layers)");
  if (!o.float_model.empty()) read_input(o.float_model);  // missing or unreadable: say so first
  const host::Compiled c =
      host::compile_model_file(o.model, host::plan_options_for_target(o.target));
  const std::vector<std::vector<uint8_t>> inputs =
      model_inputs_from(c.blob, o.model, o.inputs, o.case_index);
  std::vector<uint8_t> input_bytes;
  for (const auto& t : inputs) input_bytes.insert(input_bytes.end(), t.begin(), t.end());

  DeviceOptions dev;
  dev.target = o.target;
  dev.board = o.board;
  dev.max_instructions = o.max_instructions;
  dev.capture = !o.float_model.empty();
  const DeviceRun d = device_run(c.blob, o.model, input_bytes, dev);
  const auto& marks = d.run.op_marks;
  if (marks.size() != c.plan.ops.size())
    throw tinyforge::Error(fmt::format("{}: the firmware marked {} op(s), the plan has {}", o.model,
                                       marks.size(), c.plan.ops.size()));

  const ir::GraphMetrics m = ir::graph_metrics(c.graph);
  const bool metrics_match = m.nodes.size() == c.plan.ops.size();
  const std::optional<BlobTarget> bt = blob_target(c.blob);
  ordered_json j;
  j["model"] = o.model;
  j["target"] = d.image.target.name;
  j["kernels"] = bt && bt->dsp_kernels ? "armv7em" : "reference";
  j["board"] = d.image.board.name;
  j["memory_map"] = d.image.generic_map ? "generic" : d.image.board.name;
  j["clock_mhz"] = d.image.board.clock_mhz;
  j["timing_model"] = sim::timing_model_name(d.run.timing);
  j["cycle_source"] = fmt::format(
      "Cycle figures are estimates from tinyforge's built-in Cortex-M emulator (Unicorn), not a "
      "measurement on hardware: the firmware for {} ran one inference with op markers and every "
      "executed instruction was costed by the static {} timing model (sim/README.md: "
      "per-instruction-"
      "class table, + a pipeline refill per taken branch; caches, flash wait states and bus "
      "contention are not modelled). Each op's figure includes the few instructions of its marker "
      "call. Use them to compare layers and kernels on one core.{}",
      d.image.target.name, sim::timing_model_name(d.run.timing),
      d.image.target.name == "cortex-m7" || d.image.target.name == "cortex-m33"
          ? " No public table fits this core: the Cortex-M4 table is used (for the M7's "
            "dual-issue pipeline an upper bound)."
          : "");
  j["instructions"] = d.run.instructions;
  j["cycles_estimate"] = d.run.cycles_estimate;
  j["latency_us"] = d.figures.latency_seconds * 1e6;
  j["ops"] = ordered_json::array();
  uint64_t prev_i = 0, prev_c = 0;
  const double total = std::max<double>(1, static_cast<double>(d.run.cycles_estimate));
  for (size_t i = 0; i < c.plan.ops.size(); ++i) {
    const plan::PlanOp& op = c.plan.ops[i];
    ordered_json jo;
    jo["index"] = i;
    jo["op"] = metrics_match ? op_info(c.graph.nodes[i].op).name : op_info(op.op).name;
    jo["kernel"] = op_info(op.op).name;
    jo["name"] = op.name;
    jo["inputs"] = ordered_json::array();
    jo["outputs"] = ordered_json::array();
    uint64_t moved = 0;
    for (uint16_t t : op.inputs) {
      if (t == kNoTensor || t >= c.plan.tensors.size()) continue;
      jo["inputs"].push_back(tensor_json(c.plan.tensors[t]));
      moved += c.plan.tensors[t].bytes();
    }
    for (uint16_t t : op.outputs) {
      jo["outputs"].push_back(tensor_json(c.plan.tensors[t]));
      moved += c.plan.tensors[t].bytes();
    }
    jo["macs"] = metrics_match ? m.nodes[i].macs : 0;
    jo["params"] = metrics_match ? m.nodes[i].params : 0;
    const uint64_t cycles = marks[i].cycles - prev_c;
    jo["instructions"] = marks[i].instructions - prev_i;
    jo["cycles"] = cycles;
    jo["cycles_pct"] = std::round(10000.0 * cycles / total) / 100;
    jo["bytes_moved"] = moved;
    jo["scratch_bytes"] = op.scratch_size;
    prev_i = marks[i].instructions;
    prev_c = marks[i].cycles;
    j["ops"].push_back(jo);
  }
  j["overhead_cycles"] = d.run.cycles_estimate - prev_c;
  j["arena"] = arena_json(c.plan);
  uint64_t weights = 0;
  for (const plan::PlanTensor& t : c.plan.tensors)
    if (t.storage == Storage::constant) weights += t.data.size();
  const uint64_t model_bytes = d.figures.model_bytes;
  j["flash"] = {{"bytes", d.figures.flash_bytes},
                {"code_bytes", d.figures.code_bytes},
                {"model_bytes", model_bytes},
                {"weight_bytes", std::min(weights, model_bytes)},
                {"plan_bytes", model_bytes - std::min(weights, model_bytes)}};
  j["ram"] = {{"bytes", d.figures.ram_bytes},
              {"arena_used_bytes", d.figures.arena_used_bytes},
              {"stack_bytes", d.figures.stack_bytes},
              {"static_other_bytes", d.figures.static_other_bytes}};
  std::vector<std::string> over;
  if (budget) {
    over = sim::over_budget(*budget, {d.figures.ram_bytes, d.figures.flash_bytes,
                                      d.figures.latency_seconds, d.figures.energy_joules});
    j["budget"] = {{"text", o.budget}, {"over", over}};
  }
  if (!o.float_model.empty()) add_sqnr(j, c, d.outputs, o, inputs);
  j["output"] = o.output;

  const std::string page = render_html(j);
  io::write_file(o.output, std::vector<uint8_t>(page.begin(), page.end()));
  size_t hot = 0;
  for (size_t i = 0; i < j["ops"].size(); ++i)
    if (j["ops"][i]["cycles"].get<uint64_t>() > j["ops"][hot]["cycles"].get<uint64_t>()) hot = i;
  std::string text =
      fmt::format("wrote {}: {} ops, {} cycles (est., {} model), arena {} B, flash {} B\n",
                  o.output, j["ops"].size(), d.run.cycles_estimate,
                  j["timing_model"].get<std::string>(), c.plan.arena_size, d.figures.flash_bytes);
  if (!j["ops"].empty())
    text +=
        fmt::format("  most cycles: op {} {} ({}%)\n", hot, j["ops"][hot]["op"].get<std::string>(),
                    j["ops"][hot]["cycles_pct"].get<double>());
  if (budget)
    text +=
        over.empty() ? "  budget ok (" + o.budget + ")\n" : "  over budget (" + o.budget + ")\n";
  o.result.print(j, text);
  if (!over.empty()) {
    for (const std::string& line : over)
      std::fprintf(stderr, "tinyforge: over budget: %s\n", line.c_str());
    throw Exit{kExitBudget};
  }
}

}  // namespace

void add_report(CLI::App& app) {
  auto* cmd = app.add_subcommand("report",
                                 "One self-contained HTML page: per-layer cycles (emulated), arena "
                                 "timeline, flash, budget, SQNR");
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (TFLite/ONNX)")->required();
  cmd->add_option("-t,--target", o->target, "cortex-m4 | cortex-m7 | cortex-m0plus | cortex-m33")
      ->check(target_check(false))
      ->capture_default_str();
  cmd->add_option("-b,--board", o->board, "board from targets/boards.json (clock, memory map)");
  cmd->add_option(
      "--float", o->float_model,
      "the float32 model MODEL was quantized from: adds the int8-vs-float SQNR per layer");
  cmd->add_option(
      "-i,--input", o->inputs,
      "raw tensor file per model input (default: every element at the input's zero point)");
  cmd->add_option("--case", o->case_index, "which tensor of the --input files to use")
      ->capture_default_str();
  cmd->add_option("--budget", o->budget,
                  "e.g. ram=64K,flash=256K,latency=50ms,energy=100uJ: verdict in the page")
      ->check([](const std::string& s) {
        try {
          sim::parse_budget(s);
          return std::string();
        } catch (const sim::BudgetError& e) {
          return std::string(e.what());
        }
      });
  cmd->add_option("-o,--output", o->output, "the HTML file to write")->required();
  cmd->add_option("--max-instructions", o->max_instructions,
                  "stop the emulation after this many instructions")
      ->check(whole_number(1))
      ->capture_default_str();
  o->result.add_flag(cmd);
  cmd->footer(
      "Cycles are the built-in emulator's estimate (static timing model, sim/README.md), per op.\n"
      "The page needs no network. docs/report.md describes every part.\n"
      "Exit codes: 0 ok, 1 input error, 2 usage, 3 over budget (page written) (docs/cli.md).");
  cmd->callback([o] { report(*o); });
}

}  // namespace tinyforge::cli
