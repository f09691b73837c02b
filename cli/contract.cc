#include "cli/contract.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include "emit/cortex_m_targets.h"
#include "emit/memory_map.h"
#include "host/compile.h"
#include "io/files.h"
#include "ir/graph.h"
#include "tinyforge/plan_format.h"

namespace tinyforge::cli {

namespace fs = std::filesystem;

Global& global() {
  static Global g;
  return g;
}

void warn(const std::string& text) {
  std::fprintf(stderr, "tinyforge: warning: %s\n", text.c_str());
}

void note(const std::string& text) {
  if (!global().quiet) std::fprintf(stderr, "tinyforge: %s\n", text.c_str());
}

void check_output(const std::string& output, const std::vector<std::string>& inputs) {
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(output, ec);
  for (const std::string& in : inputs) {
    if (in.empty()) continue;
    std::error_code ec_in;
    const bool same = fs::exists(output, ec_in) ? fs::equivalent(output, in, ec_in)
                                                : out == fs::weakly_canonical(in, ec_in);
    if (same)
      throw UsageError(output + ": is also an input of this command (give -o another file)");
  }
}

InputFile read_input(const std::string& path) {
  InputFile f;
  f.bytes = io::read_file(path);
  f.kind = detect_file_kind(f.bytes);
  const FileKind claimed = kind_from_extension(path);
  if (claimed != FileKind::unknown && f.kind != FileKind::unknown && claimed != f.kind)
    warn(fmt::format("{}: the name says {} but the content is {}; going by the content", path,
                     file_kind_name(claimed), file_kind_name(f.kind)));
  return f;
}

std::optional<BlobTarget> blob_target(const std::vector<uint8_t>& blob) {
  PlanHeader h;
  if (blob.size() < sizeof h) return std::nullopt;
  std::memcpy(&h, blob.data(), sizeof h);
  if (h.version_minor < 1 || blob.size() < sizeof h + sizeof(PlanTarget)) return std::nullopt;
  PlanTarget t;
  std::memcpy(&t, blob.data() + sizeof h, sizeof t);
  t.target[sizeof t.target - 1] = 0;
  return BlobTarget{t.target, t.kernels == static_cast<uint32_t>(KernelVariant::armv7em)};
}

void check_blob_target(const std::string& path, const std::vector<uint8_t>& blob,
                       const std::string& target) {
  const std::optional<BlobTarget> t = blob_target(blob);
  if (!t)
    warn(path +
         ": the blob does not record its target (format 1.0); recompile it with "
         "`tinyforge compile --target " +
         target + "`");
  else if (t->target != target)
    warn(
        fmt::format("{}: compiled for {} ({} kernels), used for {} (recompile with `tinyforge "
                    "compile --target {}` for its kernels)",
                    path, t->target, t->dsp_kernels ? "DSP" : "reference", target, target));
}

std::vector<uint8_t> blob_for_target(const std::string& path, const std::string& target,
                                     const std::vector<plan::MemoryRegionSpec>& memory,
                                     plan::Optimize optimize) {
  InputFile file = read_input(path);
  if (file.kind != FileKind::plan_blob) {
    plan::PlanOptions options = host::plan_options_for_target(target);
    options.memory = memory;
    options.optimize = optimize;
    return host::compile_model_file(path, options).blob;
  }
  check_blob_target(path, file.bytes, target);
  return std::move(file.bytes);
}

void check_tensor_file(const std::string& path, const std::vector<uint8_t>& data, DType type,
                       uint32_t tensor_bytes) {
  if (tensor_bytes == 0 || data.empty() || data.size() % tensor_bytes != 0)
    throw tinyforge::Error(
        fmt::format("{}: {} bytes is not a whole number of {}-byte {} tensors (raw "
                    "tensors of the model input's dtype, no header)",
                    path, data.size(), tensor_bytes, dtype_name(type)));
  if (type != DType::f32) return;
  for (size_t k = 0; k < data.size() / 4; ++k) {
    float v;
    std::memcpy(&v, data.data() + 4 * k, 4);
    if (!std::isfinite(v))
      throw tinyforge::Error(fmt::format("{}: {} at case {}, element {} (inputs must be finite)",
                                         path, v, 4 * k / tensor_bytes, k % (tensor_bytes / 4)));
  }
}

CLI::Validator target_check(bool allow_host) {
  return CLI::Validator(
      [allow_host](std::string& name) -> std::string {
        if (allow_host && name == "host") return {};
        std::vector<std::string> names;
        if (allow_host) names.push_back("host");
        for (const emit::CortexMTarget& t : emit::all_targets()) {
          if (t.name == name) return {};
          names.push_back(t.name);
        }
        return fmt::format("unknown target '{}' (one of: {})", name, fmt::join(names, ", "));
      },
      "TARGET");
}

void add_memory_option(CLI::App* cmd, std::string& spec) {
  cmd->add_option("--memory", spec,
                  "memory regions, e.g. sram=128K,ccm=64K,psram=8M:slow,flash=2M:xip (attributes "
                  "slow, xip, ws=N, at=0xADDR; docs/cli.md)")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              plan::parse_memory_spec(text);
              return {};
            } catch (const plan::MemorySpecError& e) {
              const std::string what = e.what(), prefix = "--memory: ";  // CLI11 names it
              return what.rfind(prefix, 0) == 0 ? what.substr(prefix.size()) : what;
            }
          },
          "SPEC"));
}

void add_optimize_option(CLI::App* cmd, plan::Optimize& optimize) {
  std::map<std::string, plan::Optimize> modes;
  for (plan::Optimize o : {plan::Optimize::ram, plan::Optimize::speed, plan::Optimize::balanced})
    modes.emplace(plan::optimize_name(o), o);
  cmd->add_option("--optimize", optimize,
                  "ram: every RAM-saving transformation (strip-wise conv chains) that shrinks the "
                  "arena; speed: none that costs cycles; balanced: those costing under 1% of "
                  "their layers' work (docs/cli.md)")
      ->transform(CLI::CheckedTransformer(modes))
      ->default_str("balanced");
}

std::vector<plan::MemoryRegionSpec> memory_option(const std::string& spec) {
  return spec.empty() ? std::vector<plan::MemoryRegionSpec>{} : plan::parse_memory_spec(spec);
}

std::vector<plan::MemoryRegionSpec> resolved_memory(const std::string& spec,
                                                    const std::string& board) {
  const std::vector<plan::MemoryRegionSpec> memory = memory_option(spec);
  if (memory.empty()) return memory;
  const std::optional<emit::Board> b =
      board.empty() ? std::nullopt : std::optional<emit::Board>(emit::find_board(board));
  return emit::resolved_spec(emit::place_memory(memory, b ? &*b : nullptr));
}

CLI::Validator whole_number(uint64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.size() <= 19 &&
                            text.find_first_not_of("0123456789") == std::string::npos;
        if (!digits || std::stoull(text) < min)
          return fmt::format("'{}' is not a whole number >= {}", text, min);
        return {};
      },
      "N");
}

CLI::Validator fraction_below_one() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != 0 || !(v >= 0 && v < 1))
          return fmt::format("'{}' is not a number with 0 <= S < 1", text);
        return {};
      },
      "S");
}

nlohmann::ordered_json refusals_json(const tinyforge::UnsupportedOps& e) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Refusal& r : e.refusals()) {
    nlohmann::ordered_json o;
    o["index"] = r.index >= 0 ? nlohmann::ordered_json(r.index) : nullptr;
    o["op"] = r.op;
    if (!r.name.empty()) o["name"] = r.name;
    o["version"] = r.version > 0 ? nlohmann::ordered_json(r.version) : nullptr;
    o["dtype"] = r.dtype.empty() ? nullptr : nlohmann::ordered_json(r.dtype);
    o["stage"] = r.stage;
    o["reason"] = r.reason;
    list.push_back(std::move(o));
  }
  return list;
}

void Result::add_flag(CLI::App* cmd) {
  cmd->add_flag("--json", json, "print the result as one JSON object (docs/cli.md)");
}

void Result::print(const nlohmann::ordered_json& j, const std::string& text) const {
  if (json)
    std::printf("%s\n", j.dump(1).c_str());
  else
    std::fputs(text.c_str(), stdout);
}

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
constexpr int64_t kQuietMs = 2000;  // steps shorter than this print nothing
}  // namespace

Progress::Progress(std::string what, bool force_bar)
    : what_(std::move(what)),
      bar_(force_bar || isatty(fileno(stderr))),
      force_(force_bar),
      start_ms_(now_ms()),
      last_line_ms_(start_ms_) {}

Progress::~Progress() {
  if (drawn_ && bar_ && !finished_) std::fputc('\n', stderr);
}

void Progress::update(uint64_t done, uint64_t total) {
  if (global().quiet || finished_) return;
  const int64_t now = now_ms();
  if (!force_ && now - start_ms_ < kQuietMs) return;
  const std::string count = total ? fmt::format("{}/{}", done, total) : fmt::format("{}", done);
  if (!bar_) {
    if (now - last_line_ms_ < kQuietMs) return;
    last_line_ms_ = now;
    std::fprintf(stderr, "tinyforge: %s: %s\n", what_.c_str(), count.c_str());
    return;
  }
  constexpr int kWidth = 30;
  const int step =
      total ? static_cast<int>(std::min(done, total) * kWidth / total) : static_cast<int>(done);
  if (step == last_step_ && total) return;
  last_step_ = step;
  drawn_ = true;
  if (total)
    std::fprintf(stderr, "\r%s [%s%s] %s", what_.c_str(), std::string(step, '#').c_str(),
                 std::string(kWidth - step, '.').c_str(), count.c_str());
  else
    std::fprintf(stderr, "\r%s: %s", what_.c_str(), count.c_str());
  std::fflush(stderr);
}

void Progress::finish() {
  if (finished_) return;
  if (drawn_ && bar_) std::fputc('\n', stderr);
  finished_ = true;
}

}  // namespace tinyforge::cli
