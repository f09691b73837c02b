// Cortex-M4 benchmark: one verification of an OTA package held in flash, between the
// m4sim markers (protocol: ../shared/tools/m4sim/README.md). OTA_BENCH_SIGNATURE_ONLY
// measures the signed block alone (Ed25519 + SHA-512 + manifest parse) instead of the
// whole package (that plus SHA-256 of the payload). Output: the Status byte (0 = ok).
#include <cstdint>

#include "tinyforge/ota/package.h"

extern const uint8_t ota_bench_package[];
extern const uint32_t ota_bench_package_size;
extern const uint8_t ota_bench_public_key[32];

extern "C" {
__attribute__((section(".noinit"), used)) uint8_t tinyforge_input[4];
__attribute__((section(".noinit"), used)) uint8_t tinyforge_output[4];
__attribute__((noinline, used)) void tinyforge_bench_begin() { asm volatile(""); }
__attribute__((noinline, used)) void tinyforge_bench_end() { asm volatile(""); }
__attribute__((noinline, used)) void tinyforge_done() {
  for (;;) asm volatile("");
}
}

int main() {
  using namespace tinyforge;
  ota::Manifest m;
  tinyforge_bench_begin();
#ifdef OTA_BENCH_SIGNATURE_ONLY
  const uint32_t manifest_size = ota_bench_package[8] | (ota_bench_package[9] << 8);
  const Status s = ota::verify_signed_block(
      ota_bench_package, ota::signed_block_bytes(manifest_size), ota_bench_public_key, &m);
#else
  const Status s =
      ota::verify_package(ota_bench_package, ota_bench_package_size, ota_bench_public_key, &m);
#endif
  tinyforge_bench_end();
  tinyforge_output[0] = static_cast<uint8_t>(s);
  tinyforge_done();
  return 0;
}
