#include "host/compile.h"

#include <fmt/format.h>

#include <algorithm>

#include "emit/cortex_m_targets.h"
#include "emit/plan_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "ir/unsupported.h"
#include "plan/build_plan.h"

namespace tinyforge::host {

Compiled compile_model_file(const std::string& path, const plan::PlanOptions& options,
                            const passes::PassLog& log) {
  Compiled c;
  try {
    c.graph = load_model(path);
  } catch (const UnsupportedOps& e) {
    // The ops that did import may lack a kernel for this target too: name those as well.
    std::vector<Refusal> all = e.refusals();
    if (e.partial()) {
      const std::vector<Refusal> lowering = plan::lowering_refusals(*e.partial(), options);
      all.insert(all.end(), lowering.begin(), lowering.end());
      std::stable_sort(all.begin(), all.end(), [](const Refusal& a, const Refusal& b) {
        return static_cast<unsigned>(a.index) < static_cast<unsigned>(b.index);  // -1 last
      });
    }
    throw UnsupportedOps(e.source(), std::move(all), options.target);
  }
  passes::run_default_passes(c.graph, log);
  c.plan = plan::build_plan(c.graph, options);
  c.blob = emit::write_plan_blob(c.plan, options);
  if (const auto xip = plan::xip_region(options.memory); xip && c.blob.size() > xip->bytes)
    throw tinyforge::Error(fmt::format(
        "{}: memory region '{}' ({} bytes) is too small for the plan blob ({} bytes): {} bytes "
        "missing",
        path, xip->name, xip->bytes, c.blob.size(), c.blob.size() - xip->bytes));
  return c;
}

void add_frontend(Compiled& c, const audio::FrontendSpec& spec, const plan::PlanOptions& options,
                  const std::string& path) {
  if (c.plan.inputs.size() != 1)
    throw tinyforge::Error(
        fmt::format("{}: the model has {} inputs; an audio front-end feeds a model with one", path,
                    c.plan.inputs.size()));
  const plan::PlanTensor& input = c.plan.tensors[c.plan.inputs[0]];
  if (input.type != DType::i8)
    throw tinyforge::Error(fmt::format(
        "{}: the model's input is {}; the audio front-end feeds int8 inputs (quantize the model "
        "with --io int8)",
        path, dtype_name(input.type)));
  try {
    c.plan.frontend =
        audio::build_frontend_section(spec, {input.bytes(), input.scale, input.zero_point});
  } catch (const tinyforge::Error& e) {
    throw tinyforge::Error(path + ": " + e.what());
  }
  c.blob = emit::write_plan_blob(c.plan, options);
}

plan::PlanOptions plan_options_for_target(const std::string& target) {
  plan::PlanOptions options;
  options.target = target;
  if (target != "host") options.kernels = plan::kernel_set_for(emit::find_target(target).cpu_flags);
  return options;
}

}  // namespace tinyforge::host
