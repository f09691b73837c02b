// ConvChainDsp: two Conv2DDsp (and an AddDsp) run strip-wise, one output row at a time.
// The idea is MCUNetV2's patch-based inference (Lin et al., "MCUNetV2: Memory-Efficient
// Patch-based Inference for Tiny Deep Learning", NeurIPS 2021, arXiv:2110.15352), here by
// whole rows and without its recomputation.
//
// The middle tensor lives in a sliding buffer of the rows the second conv's window spans:
// before output row y, the rows it no longer needs are dropped (the kept ones moved to the
// front) and the missing ones computed by the first conv (conv2d_dsp_rows). Each middle row
// is computed once: no recompute, only that copy. The kernels are the ops' own, so the
// arithmetic is theirs and the result bit-exact.
//
// In-place safety (the planner's gap, plan/conv_chain.cc, follows this order): at output
// row y the first conv reads input rows for the middle rows it adds, then the add reads
// input row y, then output row y is written.
#include "kernels/armv7em/conv2d_dsp.h"
#include "kernels/armv7em/dsp.h"
#include "kernels/armv7em/dsp_checks.h"
#include "kernels/reference/view_checks.h"
#include "tinyforge/kernel.h"
#include "tinyforge/packed.h"

namespace tinyforge {
namespace {

uint32_t align4(uint64_t v) { return static_cast<uint32_t>((v + 3) / 4 * 4); }

bool has_add(const ConvChainDspParams& p) {
  return p.add_input != static_cast<int32_t>(ChainAdd::none);
}

// Byte sizes of the scratch parts: kept middle rows, the second conv's output row.
struct Layout {
  uint32_t mid, row;
};

Layout layout(const ConvChainDspParams& p, int32_t out_w, int32_t out_c) {
  const uint64_t mid_row = uint64_t{static_cast<uint32_t>(p.mid_w)} * p.mid_c;
  return {align4(mid_row * conv_chain_dsp_mid_rows(p)),
          has_add(p) ? align4(uint64_t{static_cast<uint32_t>(out_w)} * out_c) : 0};
}

// `v` = an int8 view of `rows` rows of an NHWC tensor of width w and c channels at `data`
// (filled in place: no temporary view in the caller's frame, which is under the kernels).
void set_rows_view(TensorView& v, void* data, int32_t rows, int32_t w, int32_t c) {
  v = TensorView{};
  v.type = DType::i8;
  v.rank = 4;
  v.dims[0] = 1;
  v.dims[1] = rows;
  v.dims[2] = w;
  v.dims[3] = c;
  v.data = data;
  const int64_t bytes = int64_t{rows} * w * c;
  v.bytes = bytes > INT32_MAX ? UINT32_MAX : static_cast<uint32_t>(bytes);
}

// Where the parts of the packed inputs 1 (filter words) and 2 (records) lie, in the shapes
// Conv2DDsp and AddDsp take them (tinyforge/packed.h); int64 for the checks.
struct Parts {
  int64_t first_rows, first_cols, second_rows, second_cols;
  int64_t mid_c, out_c;
  int64_t filter_words, record_words;  // what inputs 1 and 2 must hold
};

__attribute__((noinline)) Parts parts(const ConvChainDspParams& p, int32_t in_c, int32_t out_c) {
  Parts t;
  t.mid_c = p.mid_c;
  t.out_c = out_c;
  t.first_rows = (t.mid_c + 1) / 2;
  t.first_cols = 2 * ((int64_t{p.first.filter_h} * p.first.filter_w * in_c + 3) / 4);
  t.second_rows = (t.out_c + 1) / 2;
  t.second_cols = 2 * ((int64_t{p.second.filter_h} * p.second.filter_w * t.mid_c + 3) / 4);
  t.filter_words = t.first_rows * t.first_cols + t.second_rows * t.second_cols;
  t.record_words = 4 * (t.mid_c + t.out_c) + (has_add(p) ? kAddTableWords : 0);
  return t;
}

// An int32 tensor of exactly [n].
bool is_flat_words(const TensorView& v, int64_t n) {
  return view::is_valid(v, DType::i32) && v.rank == 1 && v.dims[0] == n;
}

// An int32 view of `rows` x `cols` words of `whole` from word `at` on (rank 1 when cols is 0).
TensorView words_view(const TensorView& whole, int64_t at, int64_t rows, int64_t cols) {
  TensorView v{};
  v.type = DType::i32;
  v.rank = cols ? 2 : 1;
  v.dims[0] = static_cast<int32_t>(rows);
  v.dims[1] = v.dims[2] = v.dims[3] = 1;
  if (cols) v.dims[1] = static_cast<int32_t>(cols);
  v.data = whole.data ? whole.as<int32_t>() + at : nullptr;
  v.bytes = static_cast<uint32_t>(4 * rows * (cols ? cols : 1));
  return v;
}

// Inputs 1 and 2 of the first conv (second false) or the second: the conv's filter words
// and channel records (views[0], its input, is the caller's).
__attribute__((noinline)) void conv_inputs(const KernelIO& io, const Parts& t, bool second,
                                           TensorView* views) {
  if (second) {
    views[1] = words_view(io.in[1], t.first_rows * t.first_cols, t.second_rows, t.second_cols);
    views[2] = words_view(io.in[2], 4 * t.mid_c, t.out_c, 4);
  } else {
    views[1] = words_view(io.in[1], 0, t.first_rows, t.first_cols);
    views[2] = words_view(io.in[2], 0, t.mid_c, 4);
  }
}

// The AddDsp table, after both convs' records.
TensorView add_table(const KernelIO& io, const Parts& t) {
  return words_view(io.in[2], 4 * (t.mid_c + t.out_c), kAddTableWords, 0);
}

// For eval: the views of a conv's inputs 1 and 2 (`second`), or the add table into views[2]
// (`add`), the parts computed per call, so that eval's frame, which stays on the stack under
// the kernels, holds none of them.
__attribute__((noinline)) void eval_inputs(const ConvChainDspParams& p, const KernelIO& io,
                                           bool second, bool add, TensorView* views) {
  const Parts t = parts(p, io.in[0].dims[3], io.out[0].dims[3]);
  if (add)
    views[2] = add_table(io, t);
  else
    conv_inputs(io, t, second, views);
}

// Copies n bytes down (dst < src; the ranges may overlap: a word is read before the bytes
// below it are written), word by word (Cortex-M4 loads and stores need no alignment).
void move_down(int8_t* dst, const int8_t* src, int32_t n) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) dsp::store32(dst + i, dsp::load32(src + i));
  for (; i < n; ++i) dst[i] = src[i];
}

}  // namespace

int32_t conv_chain_dsp_mid_rows(const ConvChainDspParams& p) {
  const int64_t span = int64_t{p.second.filter_h - 1} * p.second.dilation_h + 1;
  return static_cast<int32_t>(span < p.mid_h ? span : p.mid_h);
}

uint32_t conv_chain_dsp_scratch_bytes(const ConvChainDspParams& p, int32_t in_c, int32_t out_w,
                                      int32_t out_c) {
  const Layout l = layout(p, out_w, out_c);
  const uint32_t a = conv2d_dsp_scratch_bytes(p.first, in_c);
  const uint32_t b = conv2d_dsp_scratch_bytes(p.second, p.mid_c);
  const uint64_t bytes = uint64_t{l.mid} + l.row + align4(a > b ? a : b);
  return bytes > INT32_MAX ? UINT32_MAX : static_cast<uint32_t>(bytes);
}

Status check_ConvChainDsp(const ConvChainDspParams& p, const KernelIO& io) {
  if (io.num_inputs != 3 || io.num_outputs != 1) return Status::bad_params;
  if (p.add_input < 0 || p.add_input > static_cast<int32_t>(ChainAdd::input_second))
    return Status::bad_params;
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  if (!dsp_checks::is_int8_activation(in, 4) || !dsp_checks::is_int8_activation(out, 4) ||
      in.dims[0] != 1)
    return Status::bad_shape;
  if (p.mid_h < 1 || p.mid_w < 1 || p.mid_c < 1 || p.mid_h > checks::kMaxExtent ||
      int64_t{p.mid_w} * p.mid_c > checks::kMaxExtent)
    return Status::bad_shape;
  const Parts t = parts(p, in.dims[3], out.dims[3]);
  if (t.filter_words > checks::kMaxExtent || t.record_words > checks::kMaxExtent ||
      !is_flat_words(io.in[1], t.filter_words) || !is_flat_words(io.in[2], t.record_words))
    return Status::bad_shape;
  // Each conv as the executor would run it on whole tensors, the middle tensor's view
  // standing for the full tensor (no data is read here); one set of views for the three
  // checks keeps the validator's stack small.
  const uint32_t patches = UINT32_MAX;  // the chain's own bound is checked below
  TensorView views[3], mid;
  set_rows_view(mid, nullptr, p.mid_h, p.mid_w, p.mid_c);
  views[0] = in;
  conv_inputs(io, t, false, views);
  Status s = check_Conv2DDsp(p.first, KernelIO{views, 3, &mid, 1, nullptr, patches});
  if (s != Status::ok) return s;
  views[0] = mid;
  conv_inputs(io, t, true, views);
  s = check_Conv2DDsp(p.second, KernelIO{views, 3, &out, 1, nullptr, patches});
  if (s != Status::ok) return s;
  if (has_add(p)) {
    const bool input_first = p.add_input == static_cast<int32_t>(ChainAdd::input_first);
    views[0] = input_first ? in : out;
    views[1] = input_first ? out : in;
    views[2] = add_table(io, t);
    s = check_AddDsp(p.add, KernelIO{views, 3, &out, 1, nullptr, 0});
    if (s != Status::ok) return s;
  }
  if (io.scratch_size < conv_chain_dsp_scratch_bytes(p, in.dims[3], out.dims[2], out.dims[3]))
    return Status::bad_params;
  return Status::ok;
}

void eval_ConvChainDsp(const ConvChainDspParams& p, const KernelIO& io) {
  const TensorView& in = io.in[0];
  const TensorView& out = io.out[0];
  const int32_t out_h = out.dims[1], out_w = out.dims[2], out_c = out.dims[3];
  const Layout l = layout(p, out_w, out_c);
  const int32_t mid_row = p.mid_w * p.mid_c, out_row = out_w * out_c;
  const int32_t span = (p.second.filter_h - 1) * p.second.dilation_h + 1;
  int8_t* mid = reinterpret_cast<int8_t*>(io.scratch);
  uint8_t* patches = io.scratch + l.mid + l.row;
  const uint32_t patch_bytes = io.scratch_size - l.mid - l.row;
  const bool input_first = p.add_input == static_cast<int32_t>(ChainAdd::input_first);
  // One set of views for every call (the stack under the kernels stays small).
  TensorView views[3], row;
  int32_t base = 0, filled = 0;  // the buffer holds middle rows [base, filled)
  for (int32_t y = 0; y < out_h; ++y) {
    const int32_t top = y * p.second.stride_h - p.second.pad_top;
    const int32_t lo = top < 0 ? 0 : top;
    const int32_t hi = top + span < p.mid_h ? top + span : p.mid_h;
    if (lo >= filled) {
      base = filled = lo;
    } else if (lo > base) {
      move_down(mid, mid + (lo - base) * mid_row, (filled - lo) * mid_row);
      base = lo;
    }
    if (filled < hi) {
      views[0] = in;
      eval_inputs(p, io, false, false, views);
    }
    for (; filled < hi; ++filled) {
      set_rows_view(row, mid + (filled - base) * mid_row, 1, p.mid_w, p.mid_c);
      conv2d_dsp_rows(p.first, KernelIO{views, 3, &row, 1, patches, patch_bytes},
                      ConvRows{in.dims[1], 0, p.mid_h, filled, filled + 1});
    }
    int8_t* out_y = out.as<int8_t>() + y * out_row;
    int8_t* second_out = has_add(p) ? mid + l.mid : out_y;
    set_rows_view(views[0], mid, conv_chain_dsp_mid_rows(p), p.mid_w, p.mid_c);
    eval_inputs(p, io, true, false, views);
    set_rows_view(row, second_out, 1, out_w, out_c);
    conv2d_dsp_rows(p.second, KernelIO{views, 3, &row, 1, patches, patch_bytes},
                    ConvRows{p.mid_h, base, out_h, y, y + 1});
    if (has_add(p)) {
      set_rows_view(views[input_first ? 0 : 1], in.as<int8_t>() + y * out_row, 1, out_w, out_c);
      views[input_first ? 1 : 0] = row;
      eval_inputs(p, io, false, true, views);
      row.data = out_y;
      eval_AddDsp(p.add, KernelIO{views, 3, &row, 1, nullptr, 0});
    }
  }
}

}  // namespace tinyforge
