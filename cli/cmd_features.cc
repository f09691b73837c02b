// tinyforge features WAV... (--model MODEL|BLOB [--frontend SPEC] | --frontend SPEC) -o OUT
// The audio front-end's features of recordings, written as the raw tensors a model reads:
// for each WAV, the model input `listen` holds after the WAV's last frame (the window starts
// as silence and slides by one frame per hop). With --model, int8 values quantized with the
// model input's scale, byte for byte what the device computes; with --frontend alone,
// float32 values (feature * scale): the input of the float model, for training and
// calibration. Both come from the runtime's own front-end (runtime/audio/frontend.cc).
#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>

#include "audio/frontend_spec.h"
#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/listen_stream.h"
#include "emit/validated_plan.h"
#include "io/files.h"
#include "tinyforge/plan_reader.h"

namespace tinyforge::cli {
namespace {

struct Options {
  std::vector<std::string> wavs;
  std::string model, frontend, output;
  Result result;
};

// The front-end section to stream through: the plan blob's (int8 output), or one built from
// the SPEC alone (float output; its output quantization is unused).
struct Section {
  std::vector<uint8_t> blob;  // owns the section's bytes
  uint32_t offset = 0, size = 0;
};

Section frontend_section(const Options& o) {
  Section s;
  if (!o.model.empty()) {
    s.blob = listening_blob(o.model, o.frontend, "host");
    const emit::ValidatedPlan plan(s.blob, o.model);
    const PlanFrontend f = read_frontend(plan.data(), plan.header());
    s.offset = f.offset;  // from the blob's start
    s.size = f.size;
    return s;
  }
  const audio::FrontendSpec spec = audio::parse_frontend_spec(o.frontend);
  if (spec.frames == 0)
    throw UsageError("--frontend without --model needs frames=N (the frames of one input)");
  const uint32_t features = spec.mfcc ? spec.mfcc : spec.channels;
  s.blob = audio::build_frontend_section(spec, {spec.frames * features, 1.0f, 0});
  s.size = static_cast<uint32_t>(s.blob.size());
  return s;
}

// Appends the WAV's last window of features to `out`: int8 model input values, or float32.
void append_window(AudioFrontend& frontend, const std::vector<int16_t>& samples, bool as_int8,
                   std::vector<uint8_t>& out) {
  const FrontendConfig& c = frontend.config();
  const uint32_t values = uint32_t{c.num_frames} * c.num_features;
  std::vector<int8_t> quantized(values, static_cast<int8_t>(c.output_zero_point));
  std::vector<float> real(values, 0.0f);
  stream_frames(frontend, samples, [&](uint32_t) {
    if (as_int8) {
      frontend.push_frame(quantized.data());
    } else {  // the same slide, in float32
      std::memmove(real.data(), real.data() + c.num_features, (values - c.num_features) * 4);
      for (uint32_t i = 0; i < c.num_features; ++i)
        real[values - c.num_features + i] =
            static_cast<float>(frontend.features()[i]) * c.feature_scale;
    }
  });
  const auto* bytes = as_int8 ? reinterpret_cast<const uint8_t*>(quantized.data())
                              : reinterpret_cast<const uint8_t*>(real.data());
  out.insert(out.end(), bytes, bytes + values * (as_int8 ? 1 : 4));
}

void features(const Options& o) {
  if (o.model.empty() && o.frontend.empty())
    throw UsageError("give --model MODEL (int8 features) or --frontend SPEC (float32 features)");
  std::vector<std::string> inputs = o.wavs;
  if (!o.model.empty()) inputs.push_back(o.model);
  check_output(o.output, inputs);
  const Section s = frontend_section(o);
  auto frontend = std::make_unique<AudioFrontend>();  // about 11 KB of buffers
  if (check_frontend(s.blob.data() + s.offset, s.size) != Status::ok ||
      frontend->init(s.blob.data() + s.offset, s.size) != Status::ok)
    throw tinyforge::Error((o.model.empty() ? "--frontend" : o.model) +
                           std::string(": the audio front-end does not initialize"));
  const bool as_int8 = !o.model.empty();
  std::vector<uint8_t> out;
  for (const std::string& path : o.wavs)
    append_window(*frontend, read_wav_at(path, frontend->config()).samples, as_int8, out);
  io::write_file(o.output, out);

  const FrontendConfig& c = frontend->config();
  nlohmann::ordered_json j;
  j["output"] = o.output;
  j["wavs"] = o.wavs.size();
  j["frames"] = c.num_frames;
  j["features"] = c.num_features;
  j["dtype"] = as_int8 ? "int8" : "float32";
  j["bytes"] = out.size();
  o.result.print(j, fmt::format("{}: {} WAVs x {} frames x {} features, {} ({} bytes)\n", o.output,
                                o.wavs.size(), c.num_frames, c.num_features,
                                as_int8 ? "int8" : "float32", out.size()));
}

}  // namespace

void add_features(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("features", "Audio front-end features of WAVs as raw model-input tensors");
  auto o = std::make_shared<Options>();
  cmd->add_option("WAV", o->wavs, "16-bit mono PCM WAVs at the front-end's sample rate")
      ->required();
  cmd->add_option("-m,--model", o->model,
                  "model (int8 input) or plan blob with a front-end: int8 features quantized "
                  "with its input's scale, as the device computes them");
  cmd->add_option("--frontend", o->frontend,
                  "front-end SPEC as for listen; alone (no --model): float32 features "
                  "(feature * scale), and it must give frames=N");
  cmd->add_option("-o,--output", o->output, "raw tensor file: one input per WAV, concatenated")
      ->required();
  o->result.add_flag(cmd);
  cmd->footer(
      "Each WAV gives the model input listen holds after the WAV's last frame: frames x\n"
      "features values, oldest frame first, silence before the first frame. Exit codes: 0 ok,\n"
      "1 input error, 2 usage (docs/cli.md).");
  cmd->callback([o] { features(*o); });
}

}  // namespace tinyforge::cli
