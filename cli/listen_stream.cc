#include "cli/listen_stream.h"

#include <fmt/format.h>

#include "audio/frontend_spec.h"
#include "cli/contract.h"
#include "emit/validated_plan.h"
#include "host/compile.h"
#include "io/files.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge::cli {

std::vector<uint8_t> listening_blob(const std::string& model, const std::string& frontend,
                                    const std::string& target) {
  InputFile file = read_input(model);
  if (file.kind == FileKind::plan_blob) {
    if (!frontend.empty())
      throw UsageError(model +
                       ": a plan blob carries its own front-end; --frontend is for "
                       "model files (compile MODEL --frontend SPEC)");
    if (target != "host") check_blob_target(model, file.bytes, target);
    const emit::ValidatedPlan plan(file.bytes, model);
    if (read_frontend(plan.data(), plan.header()).size == 0)
      throw tinyforge::Error(model +
                             ": the plan blob has no audio front-end (compile the model with "
                             "--frontend SPEC)");
    return std::move(file.bytes);
  }
  const plan::PlanOptions options = host::plan_options_for_target(target);
  host::Compiled c = host::compile_model_file(model, options);
  host::add_frontend(c, audio::parse_frontend_spec(frontend), options, model);
  return c.blob;
}

audio::Wav read_wav_at(const std::string& path, const FrontendConfig& config) {
  audio::Wav wav = audio::parse_wav(io::read_file(path), path);
  if (wav.sample_rate != config.sample_rate)
    throw tinyforge::Error(
        fmt::format("{}: {} Hz; the front-end expects {} Hz (resample: sox IN.wav -r {} OUT.wav)",
                    path, wav.sample_rate, config.sample_rate, config.sample_rate));
  return wav;
}

}  // namespace tinyforge::cli
