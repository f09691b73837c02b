/* The device runtime for C firmware: the same validate-once, run-many API as
 * tinyforge/runtime.h, behind C linkage and plain structs (docs/device-api.md).
 *
 *   static tinyforge_runtime rt;
 *   if (tinyforge_init(&rt, blob, blob_size, arena, sizeof arena) != TINYFORGE_OK) ...;
 *   tinyforge_tensor in;
 *   tinyforge_input(&rt, 0, &in);
 *   memcpy(in.data, features, in.bytes);
 *   tinyforge_invoke(&rt);
 *
 * No heap, no global state: each tinyforge_runtime holds everything for one model, so
 * several models can run side by side. Compiles as C99 and as C++. */
#ifndef TINYFORGE_C_API_H
#define TINYFORGE_C_API_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: the values of tinyforge::Status (tinyforge/status.h). */
#define TINYFORGE_OK 0
#define TINYFORGE_ARENA_TOO_SMALL 10
#define TINYFORGE_NOT_INITIALIZED 11
#define TINYFORGE_OUT_OF_BOUNDS 4

/* Element types: the values of tinyforge::DType (tinyforge/dtype.h). */
#define TINYFORGE_F32 1
#define TINYFORGE_I8 2
#define TINYFORGE_I32 3
#define TINYFORGE_U8 4
#define TINYFORGE_I16 5
#define TINYFORGE_U32 6
#define TINYFORGE_U64 7

/* Opaque storage for one runtime; only the functions below touch it. */
typedef struct {
  void* opaque[6];
} tinyforge_runtime;

/* One model input or output: where its bytes are in the arena and what they mean
 * (real value = scale * (q - zero_point) for quantized types). */
typedef struct {
  int32_t dtype; /* TINYFORGE_F32, ... */
  int32_t rank;
  int32_t dims[4]; /* dims[rank..3] == 1 */
  void* data;
  uint32_t bytes;
  float scale;
  int32_t zero_point;
} tinyforge_tensor;

/* Checks a plan blob completely without keeping it: 0 or a status code. */
int tinyforge_validate(const uint8_t* blob, uint32_t size);

/* Validates `blob` and binds it to `arena` (4-byte aligned, 16 recommended; at least
 * tinyforge_arena_size() bytes). The blob must stay readable, unchanged, for as long as
 * `rt` is used. */
int tinyforge_init(tinyforge_runtime* rt, const uint8_t* blob, uint32_t blob_size, uint8_t* arena,
                   uint32_t arena_size);

/* Runs every op once: inputs are read from, outputs written to, the arena. */
int tinyforge_invoke(tinyforge_runtime* rt);

/* Resets stateful ops' memory (SVDF, LSTM) to its zero point: the next invoke starts anew. */
void tinyforge_reset_state(tinyforge_runtime* rt);

uint32_t tinyforge_num_inputs(const tinyforge_runtime* rt);
uint32_t tinyforge_num_outputs(const tinyforge_runtime* rt);
/* Arena bytes the bound plan uses (0 before a successful init). */
uint32_t tinyforge_arena_size(const tinyforge_runtime* rt);

/* Fill `out` with input/output `index`: TINYFORGE_OUT_OF_BOUNDS when there is no such
 * tensor, TINYFORGE_NOT_INITIALIZED before a successful init. */
int tinyforge_input(const tinyforge_runtime* rt, uint32_t index, tinyforge_tensor* out);
int tinyforge_output(const tinyforge_runtime* rt, uint32_t index, tinyforge_tensor* out);

/* Short lower-case name of a status code, for logs. */
const char* tinyforge_status_name(int status);

#ifdef __cplusplus
}
#endif

#endif /* TINYFORGE_C_API_H */
