// tinyforge listen MODEL --wav FILE [--frontend SPEC] [--target T] [--board B] [--labels L,..]
//                        [--average-ms N] [--threshold P] [--suppress-ms N] [--device-frames N]
//                        [--json]
// Keyword spotting on a recording: the WAV's samples stream through the plan's audio
// front-end (or one built from --frontend for a model file) into the model, one inference
// per frame, and posterior smoothing (audio/recognize.h) turns the scores into detections
// with timestamps. With a Cortex-M --target, the front-end and one inference also run in
// the emulator: cycles per frame for each, checked byte for byte against the host, real-time
// factor at the board's clock and the energy of an hour of listening.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "audio/recognize.h"
#include "audio/wav.h"
#include "cli/commands.h"
#include "cli/contract.h"
#include "cli/listen_stream.h"
#include "cli/temp_dir.h"
#include "emit/firmware.h"
#include "emit/validated_plan.h"
#include "sim/emulator.h"
#include "sim/error.h"
#include "sim/figures.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

namespace tinyforge::cli {
namespace {

struct Options {
  std::string model, wav, frontend, target = "host", board, labels, keep_dir;
  uint32_t average_ms = 500, suppress_ms = 1500, min_count = 3, measure_frames = 4;
  float threshold = 0.7f;
  double sleep_ua = 0;
  Result result;
};

// Runs the front-end and model over `samples` the way listen_main.cc does on the device:
// the window of features starts as silence, every frame slides into it, and it is copied
// into the model input before each inference (the plan may reuse the input's arena bytes
// for later tensors); `on_frame` after each frame with an inference (all frames), or one
// inference at the end (`every_frame` false).
class HostListener {
 public:
  HostListener(const std::vector<uint8_t>& blob, const std::string& source)
      : plan_(blob, source), arena_(plan_.header().arena_size / 4 + 1) {
    const PlanFrontend f = read_frontend(plan_.data(), plan_.header());
    if (runtime_.init(plan_.data(), static_cast<uint32_t>(blob.size()),
                      reinterpret_cast<uint8_t*>(arena_.data()),
                      static_cast<uint32_t>(arena_.size() * 4)) != Status::ok ||
        frontend_.init(plan_.data() + f.offset, f.size) != Status::ok)
      throw tinyforge::Error(source + ": the plan's model or front-end does not initialize");
    if (runtime_.num_inputs() != 1 || runtime_.num_outputs() != 1)
      throw tinyforge::Error(source + ": listening needs a model with one input and one output");
  }
  const FrontendConfig& config() const { return frontend_.config(); }
  const Runtime& runtime() const { return runtime_; }
  const std::vector<int8_t>& window() const { return window_; }

  template <typename OnFrame>
  uint32_t run(const std::vector<int16_t>& samples, bool every_frame, const OnFrame& on_frame) {
    window_.assign(runtime_.input(0).bytes, static_cast<int8_t>(config().output_zero_point));
    const uint32_t frames = stream_frames(frontend_, samples, [&](uint32_t frame) {
      frontend_.push_frame(window_.data());
      if (every_frame) invoke_and(frame, on_frame);
    });
    if (!every_frame) invoke_and(frames, on_frame);
    return frames;
  }

 private:
  template <typename OnFrame>
  void invoke_and(uint32_t frame, const OnFrame& on_frame) {
    std::memcpy(runtime_.input(0).data, window_.data(), window_.size());
    if (runtime_.invoke() != Status::ok) throw tinyforge::Error("the model failed to run");
    on_frame(frame, runtime_.output(0));
  }

  emit::ValidatedPlan plan_;
  std::vector<uint32_t> arena_;
  Runtime runtime_;
  AudioFrontend frontend_;
  std::vector<int8_t> window_;
};

std::vector<std::string> class_labels(const Options& o, uint32_t classes) {
  std::vector<std::string> labels;
  if (!o.labels.empty()) {
    std::stringstream items(o.labels);
    for (std::string l; std::getline(items, l, ',');) labels.push_back(l);
  } else if (classes == 4) {
    labels = {"silence", "unknown", "yes", "no"};  // micro_speech's classes, in its order
  } else {
    for (uint32_t c = 0; c < classes; ++c) labels.push_back("class" + std::to_string(c));
  }
  if (labels.size() != classes)
    throw UsageError(
        fmt::format("--labels names {} classes, the model has {}", labels.size(), classes));
  return labels;
}

const uint8_t* bytes_of(const TensorView& v) { return static_cast<const uint8_t*>(v.data); }

// Class probabilities from the model's output tensor (int8 or float).
std::vector<float> probabilities(const TensorView& out) {
  std::vector<float> p;
  const uint32_t n = out.type == DType::f32 ? out.bytes / 4 : out.bytes;
  for (uint32_t c = 0; c < n; ++c) {
    if (out.type == DType::f32) {
      float v;
      std::memcpy(&v, bytes_of(out) + 4 * c, 4);
      p.push_back(v);
    } else {
      p.push_back((static_cast<int8_t>(bytes_of(out)[c]) - out.zero_point) * out.scale);
    }
  }
  return p;
}

struct Measurement {
  double frontend_cycles = 0, model_cycles = 0, hop_seconds = 0, realtime_factor = 0;
  double frame_seconds = 0, energy_per_hour_j = 0, clock_mhz = 0;
  sim::Figures figures;
  std::string target, board;
  uint32_t device_top_class = 0;  // of the device's scores after the measured frames
  uint32_t frames = 0;
};

// The front-end over the first frames and one inference on the emulated core, checked
// against the host: model output and features byte for byte.
Measurement measure(const Options& o, const std::vector<uint8_t>& blob, HostListener& host,
                    const std::vector<int16_t>& samples) {
  const FrontendConfig& c = host.config();
  const uint32_t needed = c.window_samples + (o.measure_frames - 1) * c.hop_samples;
  if (samples.size() < needed)
    throw tinyforge::Error(
        fmt::format("{}: {} samples; measuring needs at least {}", o.wav, samples.size(), needed));
  const std::vector<int16_t> pcm(samples.begin(), samples.begin() + needed);
  TempDir dir("tinyforge-listen", o.keep_dir);
  emit::FirmwareOptions fw;
  fw.target = o.target;
  fw.board = o.board;
  const emit::FirmwareImage image =
      emit::build_listen_firmware(blob, static_cast<uint32_t>(pcm.size()), fw, dir.path(), note);
  const sim::ElfImage elf = sim::read_elf(image.elf_path);
  sim::RunOptions run_options;
  run_options.cpu = sim::cpu_from_name(image.target.emulator_cpu);
  run_options.input =
      std::vector<uint8_t>(reinterpret_cast<const uint8_t*>(pcm.data()),
                           reinterpret_cast<const uint8_t*>(pcm.data()) + 2 * pcm.size());
  sim::RunResult run;
  try {
    run = sim::run_firmware(elf, run_options);
  } catch (const sim::Error& e) {
    throw tinyforge::Error(o.model + ": the listening firmware on the emulator: " + e.what());
  }
  std::vector<uint8_t> expected;
  host.run(pcm, false, [&](uint32_t, const TensorView& out) {
    expected.assign(bytes_of(out), bytes_of(out) + out.bytes);
    expected.insert(expected.end(), host.window().begin(), host.window().end());
  });
  if (run.output != expected)
    throw VerifyError(o.model + ": the device's features or scores differ from the host's");
  if (run.op_marks.size() != o.measure_frames + 1)
    throw tinyforge::Error(fmt::format("the firmware marked {} stages, {} expected",
                                       run.op_marks.size(), o.measure_frames + 1));

  Measurement m;
  m.frames = o.measure_frames;
  const uint64_t frontend_end = run.op_marks[o.measure_frames - 1].cycles;
  m.frontend_cycles = static_cast<double>(frontend_end) / o.measure_frames;
  m.model_cycles = static_cast<double>(run.op_marks.back().cycles - frontend_end);
  m.clock_mhz = image.board.clock_mhz;
  m.hop_seconds = static_cast<double>(c.hop_samples) / c.sample_rate;
  m.frame_seconds = (m.frontend_cycles + m.model_cycles) / (m.clock_mhz * 1e6);
  m.realtime_factor = m.frame_seconds / m.hop_seconds;
  // Duty cycle: active for frame_seconds every hop, asleep (--sleep-ua) for the rest.
  const double active_watts =
      image.board.active_ua_per_mhz * 1e-6 * m.clock_mhz * image.board.voltage;
  const double duty = std::min(1.0, m.realtime_factor);
  m.energy_per_hour_j =
      3600.0 * (active_watts * duty + o.sleep_ua * 1e-6 * image.board.voltage * (1 - duty));
  const sim::PowerModel power{image.board.clock_mhz, image.board.active_ua_per_mhz,
                              image.board.voltage};
  uint64_t arena_capacity = 0;
  if (const auto s = elf.symbol("tinyforge_arena")) arena_capacity = s->size;
  m.figures = sim::compute_figures(run, power, arena_capacity);
  m.target = image.target.name;
  m.board = image.board.name;
  const uint32_t classes = host.runtime().output(0).bytes;
  if (host.runtime().output(0).type == DType::i8)
    m.device_top_class = static_cast<uint32_t>(
        std::max_element(
            run.output.begin(), run.output.begin() + classes,
            [](uint8_t a, uint8_t b) { return static_cast<int8_t>(a) < static_cast<int8_t>(b); }) -
        run.output.begin());
  return m;
}

void listen(const Options& o) {
  const std::vector<uint8_t> blob = listening_blob(o.model, o.frontend, o.target);
  HostListener host(blob, o.model);
  const FrontendConfig& c = host.config();
  const audio::Wav wav = read_wav_at(o.wav, c);
  const TensorView out = host.runtime().output(0);
  audio::RecognizeOptions ro;
  ro.average_ms = o.average_ms;
  ro.threshold = o.threshold;
  ro.suppress_ms = o.suppress_ms;
  ro.min_count = o.min_count;
  ro.labels = class_labels(o, out.type == DType::f32 ? out.bytes / 4 : out.bytes);
  audio::Recognizer recognizer(ro);
  std::vector<audio::Detection> detections;
  const uint32_t frames = host.run(wav.samples, true, [&](uint32_t frame, const TensorView& v) {
    const uint64_t end_sample = c.window_samples + uint64_t{frame} * c.hop_samples;
    const uint32_t time_ms = static_cast<uint32_t>(end_sample * 1000 / c.sample_rate);
    if (auto d = recognizer.update(time_ms, probabilities(v))) detections.push_back(*d);
  });

  nlohmann::ordered_json j;
  j["model"] = o.model;
  j["wav"] = o.wav;
  j["seconds"] = static_cast<double>(wav.samples.size()) / wav.sample_rate;
  j["frames"] = frames;
  j["detections"] = nlohmann::ordered_json::array();
  std::string text = fmt::format("{}: {:.2f} s, {} frames of {} features ({} ms hop)\n", o.wav,
                                 static_cast<double>(wav.samples.size()) / wav.sample_rate, frames,
                                 c.num_features, 1000 * c.hop_samples / c.sample_rate);
  for (const audio::Detection& d : detections) {
    j["detections"].push_back(
        {{"time_s", d.time_ms / 1000.0}, {"label", d.label}, {"score", d.score}});
    text +=
        fmt::format("  {:>7.2f} s  {:<10} score {:.2f}\n", d.time_ms / 1000.0, d.label, d.score);
  }
  if (detections.empty()) text += "  no keyword detected\n";
  if (o.target != "host") {
    const Measurement m = measure(o, blob, host, wav.samples);
    j["target"] = m.target;
    j["board"] = m.board;
    j["clock_mhz"] = m.clock_mhz;
    j["frontend_cycles_per_frame"] = m.frontend_cycles;
    j["model_cycles_per_inference"] = m.model_cycles;
    j["realtime_factor"] = m.realtime_factor;
    j["energy_per_hour_j"] = m.energy_per_hour_j;
    j["sleep_ua"] = o.sleep_ua;
    j["ram_bytes"] = m.figures.ram_bytes;
    j["flash_bytes"] = m.figures.flash_bytes;
    j["device_matches_host"] = true;
    j["device_top_class"] = m.device_top_class;
    text += fmt::format(
        "{} ({}, {:g} MHz), one inference per {:.0f} ms frame:\n"
        "  front-end   {:>10.0f} cycles/frame  {:>8.1f} us   (mean of {} frames)\n"
        "  model       {:>10.0f} cycles/frame  {:>8.1f} us\n"
        "  real time   {:>10.4f} x  (compute time / audio time)\n"
        "  energy      {:>10.3f} J per hour of listening (active {:.2f}% of the time{})\n"
        "  RAM {} B, flash {} B; features and scores match the host byte for byte\n"
        "  the device's top class after {} frames: {}\n",
        m.target, m.board, m.clock_mhz, m.hop_seconds * 1000, m.frontend_cycles,
        m.frontend_cycles / m.clock_mhz, m.frames, m.model_cycles, m.model_cycles / m.clock_mhz,
        m.realtime_factor, m.energy_per_hour_j, 100 * std::min(1.0, m.realtime_factor),
        o.sleep_ua > 0 ? fmt::format(", asleep at {:g} uA otherwise", o.sleep_ua)
                       : ", sleep current not counted",
        m.figures.ram_bytes, m.figures.flash_bytes, m.frames, ro.labels.at(m.device_top_class));
  }
  o.result.print(j, text);
}

}  // namespace

void add_listen(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "listen", "Keyword spotting on a WAV: audio front-end, model, smoothed detections");
  auto o = std::make_shared<Options>();
  cmd->add_option("MODEL", o->model,
                  "model (TFLite/ONNX, int8 input) or plan blob with a front-end")
      ->required();
  cmd->add_option("--wav", o->wav, "16-bit mono PCM WAV at the front-end's sample rate")
      ->required();
  cmd->add_option("--frontend", o->frontend,
                  "front-end for a model file: rate=16000,window=30ms,hop=20ms,channels=40,"
                  "lower=125,upper=7500,pcan=on,log_shift=6,mfcc=0,frames=49 (any subset; "
                  "default micro_speech's)");
  cmd->add_option("-t,--target", o->target,
                  "host (default), or a Cortex-M target to measure in the emulator")
      ->check(target_check(true))
      ->capture_default_str();
  cmd->add_option("-b,--board", o->board, "board from targets/boards.json (clock, current)");
  cmd->add_option("--labels", o->labels,
                  "class names in output order (default for 4 classes: silence,unknown,yes,no)");
  cmd->add_option("--average-ms", o->average_ms, "scores averaged over this window")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd->add_option("--threshold", o->threshold, "averaged probability a detection needs")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--suppress-ms", o->suppress_ms, "the same keyword again only after this")
      ->capture_default_str();
  cmd->add_option("--min-count", o->min_count, "inferences the average needs")
      ->check(whole_number(1))
      ->capture_default_str();
  cmd->add_option("--sleep-ua", o->sleep_ua,
                  "sleep current between frames, for the energy per hour (default 0: not counted)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--device-frames", o->measure_frames,
                  "with --target: frames of the WAV's start the emulated front-end runs before "
                  "its one inference (e.g. 60 for the first 1.2 s)")
      ->check(CLI::Range(1, 500))
      ->capture_default_str();
  cmd->add_option("--keep", o->keep_dir, "build the firmware in this folder and keep it");
  o->result.add_flag(cmd);
  cmd->footer(
      "Silence, unknown and labels starting with _ never count as detections. With --target,\n"
      "the emulated run covers the first frames and one inference; cycles come from the\n"
      "static timing model (sim/README.md). Exit codes: 0 ok, 1 input error, 2 usage,\n"
      "4 the device's features or scores differ from the host's (docs/cli.md).");
  cmd->callback([o] { listen(*o); });
}

}  // namespace tinyforge::cli
