// Delta model updates: the stream format ("TFD1") that rebuilds a new payload from the
// plan the device runs, and its streaming decoder. Byte-level description:
// docs/ota-format.md, section "Delta packages". All integers little-endian.
//
//   header   16 B  magic "TFD1", base_size u32, output_size u32, reserved u32 (0)
//   commands until output_size bytes are produced, each 9 bytes:
//            op u8 | length u32 (>= 1) | source u32
//     op 1 copy:    output += base[source, source + length)
//     op 2 add:     output += base[source + i] + value[i] (mod 256), i < length
//     op 3 literal: output += value[i]                         (source must be 0)
//   add and literal commands are followed by tokens that yield exactly `length` values:
//     0x00..0x3F  n = (t & 0x3F) + 1 zero values
//     0x40..0x7F  n raw bytes follow, one value each
//     0x80..0xBF  n bytes follow, two signed 4-bit values each (low nibble first)
//     0xC0..0xFF  n bytes follow, four signed 2-bit values each (bits 1..0 first)
//
// The decoder takes the stream in chunks of any size, never buffers more than 64 bytes of
// output or base, reads the base and writes the output through callbacks, and refuses
// (bad_delta) anything out of bounds before it is used: a source range past the base, more
// output than announced, a token that overruns its command, bytes after the end.
// Freestanding: no heap, no exceptions.
#pragma once
#include <cstddef>
#include <cstdint>

#include "tinyforge/status.h"

namespace tinyforge::ota {

constexpr uint32_t kDeltaMagic = 0x31444654;  // bytes "TFD1"
constexpr uint32_t kDeltaHeaderBytes = 16;
constexpr uint32_t kDeltaCommandBytes = 9;

enum class DeltaOp : uint8_t { copy = 1, add = 2, literal = 3 };

struct DeltaSink {
  void* context;
  // Reads base bytes [offset, offset + size); offset + size <= base_size.
  Status (*read_base)(void* context, uint32_t offset, uint8_t* out, uint32_t size);
  // Appends output bytes, in order.
  Status (*write)(void* context, const uint8_t* data, uint32_t size);
};

class DeltaDecoder {
 public:
  static constexpr uint32_t kBufferBytes = 64;

  // A stream that rebuilds `output_size` bytes from a base of `base_size` bytes; the
  // stream's header must announce exactly these (wrong_base / bad_delta otherwise).
  void start(uint32_t base_size, uint32_t output_size);
  // Decodes the next bytes of the stream. Errors: bad_delta, wrong_base, or the sink's.
  Status feed(const uint8_t* data, size_t size, const DeltaSink& sink);
  // The stream has ended: writes what is buffered; bad_delta unless the output is complete
  // and the stream ended on a command boundary.
  Status finish(const DeltaSink& sink);
  uint32_t produced() const { return produced_; }  // output bytes decoded so far

 private:
  enum class Phase : uint8_t { header, command, token, token_bytes, failed, done };

  Status take_field(const DeltaSink& sink);
  Status start_command(const DeltaSink& sink);
  Status emit(uint8_t value, const DeltaSink& sink);
  Status flush(const DeltaSink& sink);
  Status run_copy(const DeltaSink& sink);
  Status fail(Status s);

  Phase phase_ = Phase::failed;
  DeltaOp op_ = DeltaOp::copy;
  uint8_t field_[kDeltaHeaderBytes] = {};
  uint8_t have_ = 0;         // bytes in field_
  uint8_t token_ = 0;        // current token byte
  uint32_t token_left_ = 0;  // payload bytes of the current token still to come
  uint32_t left_ = 0;        // values of the current command still to come
  uint32_t source_ = 0;      // next base offset of an add command
  uint32_t base_size_ = 0;
  uint32_t output_size_ = 0;
  uint32_t produced_ = 0;  // output values decoded (buffered or written)
  uint32_t out_len_ = 0;
  uint32_t base_at_ = 0;   // base offset of base_[0]
  uint32_t base_len_ = 0;  // valid bytes in base_
  uint8_t out_[kBufferBytes] = {};
  uint8_t base_[kBufferBytes] = {};
};

}  // namespace tinyforge::ota
