// tinyforge prune MODEL --sparsity S [--structured] [--calibration FILE ...] [--verbose]
//                 -o OUT.tflite
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "emit/plan_writer.h"
#include "export/tflite_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/metrics.h"
#include "plan/build_plan.h"
#include "prune/channel_prune.h"
#include "prune/magnitude_prune.h"
#include "prune/reconstruct.h"

namespace tinyforge::cli {
namespace {

struct Figures {
  ir::GraphMetrics metrics;
  double sparsity = 0;
  std::optional<uint32_t> arena, blob;  // absent when the graph does not compile
};

Figures figures(const ir::Graph& g) {
  Figures f;
  f.metrics = ir::graph_metrics(g);
  f.sparsity = prune::weight_sparsity(g);
  try {
    const plan::Plan p = plan::build_plan(g);
    f.arena = p.arena_size;
    f.blob = static_cast<uint32_t>(emit::write_plan_blob(p).size());
  } catch (const tinyforge::Error&) {
  }
  return f;
}

std::string opt(const std::optional<uint32_t>& v) { return v ? fmt::format("{}", *v) : "-"; }

void print_row(const char* what, const std::string& before, const std::string& after) {
  std::printf("  %-22s %14s %14s\n", what, before.c_str(), after.c_str());
}

}  // namespace

void add_prune(CLI::App& app) {
  auto* cmd = app.add_subcommand("prune",
                                 "Magnitude pruning: zero small weights, or remove whole channels");
  struct Options {
    std::string model, out;
    std::vector<std::string> calibration;
    double sparsity = 0;
    bool structured = false, verbose = false;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model, "model (.tflite or .onnx)")->required();
  cmd->add_option("-s,--sparsity", o->sparsity,
                  "share of weights (or channels) to remove, 0 <= S < 1")
      ->required()
      ->check(CLI::Range(0.0, 0.999999));
  cmd->add_flag("--structured", o->structured,
                "remove whole output channels (smallest L2 norm), shrinking the next layer too");
  cmd->add_option("-c,--calibration", o->calibration,
                  "raw input tensors (as for quantize): refit the kept weights by least squares "
                  "to the dense model's layer outputs");
  cmd->add_flag("-v,--verbose", o->verbose, "one line per layer");
  cmd->add_option("-o,--output", o->out, ".tflite file to write")->required();
  cmd->footer(
      "Unstructured pruning keeps shapes (zeros compress); structured pruning shrinks "
      "MACs, parameters, flash and arena. Neither fine-tunes: check the accuracy.");
  cmd->callback([o] {
    const ir::Graph original = load_model(o->model);
    ir::Graph pruned = original;
    std::function<void(const std::string&)> log;
    if (o->verbose) log = [](const std::string& line) { std::printf("  %s\n", line.c_str()); };
    std::vector<std::vector<int32_t>> kept_channels;
    if (o->structured) {
      const prune::ChannelPruneResult r = prune::prune_channels(pruned, o->sparsity, log);
      kept_channels = r.kept_channels;
      std::printf("%s: removed %lld output channel(s) in %d layer(s)\n", o->model.c_str(),
                  static_cast<long long>(r.channels_removed), r.layers);
    } else {
      const int64_t zeroed = prune::prune_unstructured(pruned, o->sparsity, log);
      std::printf("%s: set %lld weight(s) to zero\n", o->model.c_str(),
                  static_cast<long long>(zeroed));
    }
    if (!o->calibration.empty()) {
      std::vector<std::vector<uint8_t>> files;
      for (const std::string& f : o->calibration) files.push_back(io::read_file(f));
      const quantize::CalibrationSet data =
          quantize::make_calibration_set(original, std::move(files), o->calibration);
      prune::reconstruct_pruned(pruned, original, data, prune::kDefaultRidge, log, kept_channels);
      std::printf("refitted the kept weights on %u calibration case(s)\n", data.cases);
    }
    const Figures before = figures(original), after = figures(pruned);
    print_row("", "before", "after");
    print_row("MACs", fmt::format("{}", before.metrics.macs),
              fmt::format("{}", after.metrics.macs));
    print_row("params", fmt::format("{}", before.metrics.params),
              fmt::format("{}", after.metrics.params));
    print_row("weight bytes", fmt::format("{}", before.metrics.weight_bytes),
              fmt::format("{}", after.metrics.weight_bytes));
    print_row("weight sparsity", fmt::format("{:.1f}%", 100 * before.sparsity),
              fmt::format("{:.1f}%", 100 * after.sparsity));
    print_row("arena bytes", opt(before.arena), opt(after.arena));
    print_row("flash (plan blob) bytes", opt(before.blob), opt(after.blob));
    tflite_export::write_tflite_file(pruned, o->out);
    std::printf("wrote %s\n", o->out.c_str());
  });
}

}  // namespace tinyforge::cli
