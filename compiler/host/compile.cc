#include "host/compile.h"

#include "emit/cortex_m_targets.h"
#include "emit/plan_writer.h"
#include "import/load_model.h"
#include "io/files.h"
#include "plan/build_plan.h"

namespace tinyforge::host {

Compiled compile_model_file(const std::string& path, const plan::PlanOptions& options,
                            const passes::PassLog& log) {
  Compiled c;
  c.graph = load_model(path);
  passes::run_default_passes(c.graph, log);
  c.plan = plan::build_plan(c.graph, options);
  c.blob = emit::write_plan_blob(c.plan, options);
  return c;
}

plan::PlanOptions plan_options_for_target(const std::string& target) {
  plan::PlanOptions options;
  options.target = target;
  if (target != "host") options.kernels = plan::kernel_set_for(emit::find_target(target).cpu_flags);
  return options;
}

}  // namespace tinyforge::host
