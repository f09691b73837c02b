// main() of a `tinyforge listen --target` image: keyword spotting from samples to
// detections' inputs, measured per stage in the emulator (protocol of bench_main.cc, with
// op markers as stage markers):
//   1. validate the plan blob and its audio front-end section;
//   2. the window of features (kept in tinyforge_output after the model's outputs: the
//      plan may reuse the input's arena bytes) starts as silence, every value the features'
//      zero point;
//   3. tinyforge_bench_begin(); every frame of the 16-bit PCM in tinyforge_input through
//      the front-end into the window, tinyforge_op_end(frame) after each; the window into
//      the model input, one Runtime::invoke(), tinyforge_op_end(frames);
//      tinyforge_bench_end();
//   4. tinyforge_output = the model's outputs, then the window (the features), so the
//      host can check both byte for byte; tinyforge_done();
//   5. act on the result: one semihosting line naming the top class of an int8 output and
//      its score, `tinyforge: status=ok class=2 score=255` (score: output - zero point).
// The model-specific symbols come from the generated model_data.cc (emit/firmware.h).
#include <cstdint>
#include <cstring>

#include "image_symbols.h"
#include "semihost.h"
#include "tinyforge/audio_frontend.h"
#include "tinyforge/plan_reader.h"
#include "tinyforge/runtime.h"

extern "C" {
// Stage marker: entered after frame `index` (index = frames: after the inference).
__attribute__((noinline, noipa, used)) void tinyforge_op_end(uint32_t index) {
  asm volatile("" ::"r"(index) : "memory");
}
}

namespace {

tinyforge::Runtime runtime;
tinyforge::AudioFrontend frontend;  // state and work buffers: .bss, not the stack

int finish(const char* line) {
  tinyforge::firmware::semihost_write0(line);
  return 0;
}

// "tinyforge: status=ok class=C score=S\n" for the largest value of an int8 output.
int report_top_class(const tinyforge::TensorView& out) {
  const int8_t* scores = static_cast<const int8_t*>(out.data);
  uint32_t top = 0;
  for (uint32_t c = 1; c < out.bytes; ++c)
    if (scores[c] > scores[top]) top = c;
  char line[64] = "tinyforge: status=ok class=";
  char* at = line + sizeof "tinyforge: status=ok class=" - 1;
  const auto put = [&at](uint32_t v) {
    char digits[10];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) *at++ = digits[--n];
  };
  put(top);
  for (const char* s = " score="; *s;) *at++ = *s++;
  put(static_cast<uint32_t>(scores[top] - out.zero_point));
  *at++ = '\n';
  *at = 0;
  return finish(line);
}

}  // namespace

int main() {
  using tinyforge::Status;
  if (runtime.init(tinyforge_model_blob, tinyforge_model_blob_size, tinyforge_arena,
                   tinyforge_arena_capacity) != Status::ok)
    return finish("tinyforge: status=error step=init\n");
  const tinyforge::PlanFrontend section =
      tinyforge::read_frontend(tinyforge_model_blob, tinyforge::read_header(tinyforge_model_blob));
  if (frontend.init(tinyforge_model_blob + section.offset, section.size) != Status::ok)
    return finish("tinyforge: status=error step=frontend\n");
  const tinyforge::TensorView in = runtime.input(0);
  const tinyforge::TensorView out = runtime.output(0);
  if (out.bytes + in.bytes > tinyforge_output_size)
    return finish("tinyforge: status=error step=output\n");
  int8_t* features = reinterpret_cast<int8_t*>(tinyforge_output + out.bytes);
  std::memset(features, static_cast<int8_t>(frontend.config().output_zero_point), in.bytes);

  const int16_t* pcm = reinterpret_cast<const int16_t*>(tinyforge_input);
  const uint32_t samples = tinyforge_input_size / 2;
  tinyforge_bench_begin();
  uint32_t at = 0, frames = 0;
  while (at < samples) {
    uint32_t consumed = 0;
    if (frontend.process(pcm + at, samples - at, &consumed)) {
      frontend.push_frame(features);
      tinyforge_op_end(frames++);
    }
    at += consumed;
  }
  std::memcpy(in.data, features, in.bytes);
  const Status status = runtime.invoke();
  tinyforge_op_end(frames);
  tinyforge_bench_end();

  std::memcpy(tinyforge_output, out.data, out.bytes);
  tinyforge_done();
  if (status != Status::ok) return finish("tinyforge: status=error step=invoke\n");
  return out.type == tinyforge::DType::i8 ? report_top_class(out)
                                          : finish("tinyforge: status=ok\n");
}
