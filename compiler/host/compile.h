// The whole host path from a model file to a plan blob, and getting a blob from either.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "audio/frontend_spec.h"
#include "ir/graph.h"
#include "passes/passes.h"
#include "plan/build_plan.h"
#include "plan/plan.h"

namespace tinyforge::host {

struct Compiled {
  ir::Graph graph;
  plan::Plan plan;
  std::vector<uint8_t> blob;
};

// Import (.tflite/.onnx) -> default graph passes (each change reported to `log`) -> plan
// -> blob. Throws tinyforge::Error; UnsupportedOps (ir/unsupported.h) naming every op that
// does not import or has no kernel for the target, all in one.
Compiled compile_model_file(const std::string& path, const plan::PlanOptions& options = {},
                            const passes::PassLog& log = {});

// Puts the audio front-end `spec` into a compiled model, whose one int8 input takes the
// features (frames x features, quantized by the input's scale and zero point), and writes
// its blob again (plan format 1.3). Throws tinyforge::Error naming `path`.
void add_frontend(Compiled& c, const audio::FrontendSpec& spec, const plan::PlanOptions& options,
                  const std::string& path);

// Plan options for a target name: "host" (reference kernels) or a Cortex-M target of
// targets/targets.json, whose kernel folders decide the kernels (e.g. cortex-m4: the
// armv7em DSP twins). Throws tinyforge::Error for an unknown target.
plan::PlanOptions plan_options_for_target(const std::string& target);

}  // namespace tinyforge::host
