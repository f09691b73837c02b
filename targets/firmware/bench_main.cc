// main() of every tinyforge firmware image: one measured inference, following the
// protocol of ../shared/tools/m4sim/README.md to the letter:
//   1. validate the plan blob (in flash, section .tinyforge.model) into the arena;
//   2. copy tinyforge_input (NOLOAD .noinit; an emulator writes it before reset) into the
//      model's input tensors, set tinyforge_arena_used;
//   3. tinyforge_bench_begin(); exactly one Runtime::invoke(); tinyforge_bench_end();
//   4. copy the outputs to tinyforge_output, call tinyforge_done() (emulators stop here);
//   5. print one result line by semihosting and exit, so QEMU -semihosting terminates:
//        tinyforge: status=ok arena_used=N output_bytes=N output_crc32=XXXXXXXX output=HEX
// The model-specific symbols (blob, buffers and their sizes) come from the generated
// model_data.cc that `tinyforge firmware` writes beside this file's object.
#include <cstdint>
#include <cstring>

#include "image_symbols.h"
#include "semihost.h"
#include "tinyforge/plan_format.h"
#include "tinyforge/runtime.h"

extern "C" {
#ifdef TINYFORGE_MEMORY_REGIONS
// --memory: one arena per region of the plan (tinyforge_arena is region 0's).
extern const tinyforge::ArenaRegion tinyforge_arena_regions[];
extern const uint32_t tinyforge_num_arena_regions;
#endif

__attribute__((used)) volatile uint32_t tinyforge_arena_used;

#ifdef TINYFORGE_OP_MARKERS
// Per-op marker (emit::FirmwareOptions::op_markers): entered after op `op_index` ran, its
// index in r0; an emulator records its counters and may read the op's outputs here.
__attribute__((noinline, noipa, used)) void tinyforge_op_end(uint32_t op_index) {
  asm volatile("" ::"r"(op_index) : "memory");
}
#endif
}

namespace {

using tinyforge::firmware::semihost_write0;

// Buffered text for one semihosting call per chunk (no printf: it would pull in newlib's
// stdio and a heap).
class Line {
 public:
  Line& text(const char* s) {
    while (*s) put(*s++);
    return *this;
  }
  Line& dec(uint32_t v) {
    char digits[10];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v);
    while (n) put(digits[--n]);
    return *this;
  }
  Line& hex(uint32_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) put("0123456789abcdef"[(v >> (4 * i)) & 0xF]);
    return *this;
  }
  void flush() {
    buf_[len_] = '\0';
    if (len_) semihost_write0(buf_);
    len_ = 0;
  }

 private:
  void put(char c) {
    if (len_ == sizeof buf_ - 1) flush();
    buf_[len_++] = c;
  }
  char buf_[129];
  uint32_t len_ = 0;
};

tinyforge::Runtime runtime;

// main() calls each step below in its own frame (noinline): the printing buffer and the
// tensor views are off the stack while the plan is validated and the inference runs, whose
// stack high-water is what the image needs.

__attribute__((noinline)) int report_failure(const char* step, tinyforge::Status status) {
  Line line;
  line.text("tinyforge: status=")
      .text(tinyforge::status_name(status))
      .text(" step=")
      .text(step)
      .text("\n");
  line.flush();
  return 1;
}

__attribute__((noinline)) tinyforge::Status init_runtime() {
#ifdef TINYFORGE_MEMORY_REGIONS
  return runtime.init(tinyforge_model_blob, tinyforge_model_blob_size, tinyforge_arena_regions,
                      tinyforge_num_arena_regions);
#else
  return runtime.init(tinyforge_model_blob, tinyforge_model_blob_size, tinyforge_arena,
                      tinyforge_arena_capacity);
#endif
}

// Copies tinyforge_input into the model's inputs (to_model) or the model's outputs into
// tinyforge_output; false when the protocol buffer is too small.
__attribute__((noinline)) bool copy_io(bool to_model) {
  const uint32_t count = to_model ? runtime.num_inputs() : runtime.num_outputs();
  const uint32_t capacity = to_model ? tinyforge_input_size : tinyforge_output_size;
  uint32_t at = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const tinyforge::TensorView t = to_model ? runtime.input(i) : runtime.output(i);
    if (at + t.bytes > capacity) return false;
    if (to_model)
      std::memcpy(t.data, tinyforge_input + at, t.bytes);
    else
      std::memcpy(tinyforge_output + at, t.data, t.bytes);
    at += t.bytes;
  }
  return true;
}

__attribute__((noinline)) int report_success() {
  Line line;
  line.text("tinyforge: status=ok arena_used=").dec(tinyforge_arena_used);
  line.text(" output_bytes=").dec(tinyforge_output_size);
  line.text(" output_crc32=").hex(tinyforge::crc32(tinyforge_output, tinyforge_output_size), 8);
  line.text(" output=");
  for (uint32_t i = 0; i < tinyforge_output_size; ++i) line.hex(tinyforge_output[i], 2);
  line.text("\n");
  line.flush();
  return 0;
}

}  // namespace

int main() {
  tinyforge::Status status = init_runtime();
  if (status != tinyforge::Status::ok) return report_failure("init", status);
  if (!copy_io(true)) return report_failure("input", tinyforge::Status::out_of_bounds);
#ifdef TINYFORGE_MEMORY_REGIONS
  tinyforge_arena_used = 0;  // every region's arena
  for (uint32_t r = 0; r < tinyforge::Runtime::num_regions(tinyforge_model_blob); ++r)
    tinyforge_arena_used += tinyforge::Runtime::region_size(tinyforge_model_blob, r);
#else
  tinyforge_arena_used = runtime.arena_size();
#endif
#ifdef TINYFORGE_OP_MARKERS
  runtime.set_op_hook(
      [](void*, uint32_t op_index, tinyforge::OpCode) { tinyforge_op_end(op_index); }, nullptr);
#endif

  tinyforge_bench_begin();
  status = runtime.invoke();
  tinyforge_bench_end();

  if (!copy_io(false)) return report_failure("output", tinyforge::Status::out_of_bounds);
  tinyforge_done();

  if (status != tinyforge::Status::ok) return report_failure("invoke", status);
  return report_success();
}
