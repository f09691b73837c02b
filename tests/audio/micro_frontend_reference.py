#!/usr/bin/python3
"""An independent reference of TFLM's micro front-end, written from its published arithmetic
(tensorflow/lite/experimental/microfrontend/lib: window_util.c, window.c, fft.cc, kissfft 1.3.0
kiss_fft.c / kiss_fftr.c / _kiss_fft_guts.h with FIXED_POINT=16, filterbank_util.c,
filterbank.c, noise_reduction(_util).c, pcan_gain_control(_util).c, log_scale.c, log_lut.c,
frontend.c, frontend_util.c) in Python integers and numpy float32, sharing no code with the
C++ runtime. Plus the same MFCC (orthonormal DCT-II, Q14) and int8 conversion as tinyforge.

  micro_frontend_reference.py OUT_DIR   writes test cases generated here, now:
     CASE.json      the front-end spec (tinyforge --frontend keys) and the model input's
                    quantization
     CASE.pcm       int16 little-endian samples
     CASE.features  int32 little-endian: every frame's features, frame after frame
     CASE.int8      every frame's features as model input values
"""
import json
import math
import os
import sys

import numpy as np

F32 = np.float32
KPI = 3.141592653589793238462643383279502884197169399375105820974944  # kissfft's literal


def w16(x):
    """Store into int16 (two's complement wrap), arrays or ints."""
    return ((x + 32768) & 0xFFFF) - 32768


def u32(x):
    return x & 0xFFFFFFFF


def msb(n):
    return int(n).bit_length()


# ---------------------------------------------------------------- tables (*_util.c)
def window_table(size):
    arg = F32(math.pi * 2.0 / float(F32(size)))
    out = []
    for i in range(size):
        value = F32(0.5 - 0.5 * math.cos(float(arg) * (i + 0.5)))
        out.append(int(math.floor(float(F32(value * F32(4096))) + 0.5)))
    return out


def kiss_cexp(phase):
    return (int(math.floor(0.5 + 32767 * math.cos(phase))),
            int(math.floor(0.5 + 32767 * math.sin(phase))))


def freq_to_mel(freq):
    return F32(1127.0 * math.log1p(float(freq) / 700.0))


def filterbank_tables(rate, spectrum_size, channels, lower, upper):
    lower, upper = F32(lower), F32(upper)
    n1 = channels + 1
    mel_low, mel_hi = freq_to_mel(lower), freq_to_mel(upper)
    spacing = F32(F32(mel_hi - mel_low) / F32(n1))
    center = [F32(mel_low + F32(spacing * F32(i + 1))) for i in range(n1)]
    hz_per_sbin = F32(0.5 * rate / float(F32(F32(spectrum_size) - F32(1))))
    start_index = int(1.5 + float(F32(lower / hz_per_sbin)))
    freq_starts, weight_starts, widths = [0] * n1, [0] * n1, [0] * n1
    actual_start, actual_width = [0] * n1, [0] * n1
    chan_start, weight_start, needs_zeros = start_index, 0, False
    for ch in range(n1):
        f = chan_start
        while freq_to_mel(F32(F32(f) * hz_per_sbin)) <= center[ch]:
            f += 1
        width = f - chan_start
        actual_start[ch], actual_width[ch] = chan_start, width
        if width == 0:
            freq_starts[ch], weight_starts[ch], widths[ch] = 0, 0, 4
            if not needs_zeros:
                needs_zeros = True
                for j in range(ch):
                    weight_starts[j] += 4
                weight_start += 4
        else:
            aligned = (chan_start // 2) * 2
            padded = ((chan_start - aligned + width - 1) // 4 + 1) * 4
            freq_starts[ch], weight_starts[ch], widths[ch] = aligned, weight_start, padded
            weight_start += padded
        chan_start = f
    weights, unweights = [0] * weight_start, [0] * weight_start
    end_index = 0
    for ch in range(n1):
        f = actual_start[ch]
        denom = mel_low if ch == 0 else center[ch - 1]
        for j in range(actual_width[ch]):
            wgt = F32(F32(center[ch] - freq_to_mel(F32(F32(f) * hz_per_sbin))) /
                      F32(center[ch] - denom))
            at = weight_starts[ch] + (actual_start[ch] - freq_starts[ch]) + j
            weights[at] = int(math.floor(float(F32(wgt * F32(4096))) + 0.5))
            unweights[at] = int(math.floor((1.0 - float(wgt)) * 4096 + 0.5))
            f += 1
        end_index = max(end_index, f)
    return dict(start=start_index, end=end_index, freq_starts=freq_starts,
                weight_starts=weight_starts, widths=widths, weights=weights, unweights=unweights)


def pcan_lut(input_bits, strength=0.95, offset=80.0, gain_bits=21):
    def gain(x):
        xf = F32(F32(x) / F32(1 << input_bits))
        g = F32(F32(1 << gain_bits) * np.power(F32(xf + F32(offset)), F32(-F32(strength))))
        return 32767 if g > 32767 else int(F32(g + F32(0.5)))
    lut = [0] * 125
    lut[0], lut[1] = gain(0), gain(1)
    for interval in range(2, 33):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == 32 else 2 * x0
        y0, y1, y2 = gain(x0), gain(x1), gain(x2)
        a1 = 4 * (y1 - y0) - (y2 - y0)
        a2 = (y2 - y0) - a1
        base = 4 * interval - 6
        lut[base], lut[base + 1], lut[base + 2] = y0, w16(a1), w16(a2)
    return lut


LOG_LUT = [
    0, 224, 442, 654, 861, 1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633,
    4714, 4791, 4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477,
    5507, 5533, 5557, 5578, 5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615,
    5602, 5586, 5568, 5547, 5524, 5498, 5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156,
    5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697, 4630, 4561, 4490, 4416, 4341, 4264, 4184,
    4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286, 3186, 3084, 2981, 2875, 2768,
    2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353, 1224, 1094, 963, 830,
    695, 559, 421, 282, 142, 0, 0]


# ---------------------------------------------------------------- kissfft, fixed point 16
def sround(x):
    return w16((x + (1 << 14)) >> 15)


def fixdiv(x, k):
    return sround(x * (32767 // k))


def cmul(ar, ai, br, bi):
    return sround(ar * br - ai * bi), sround(ar * bi + ai * br)


def kf_factor(n):
    facs, p = [], 4
    floor_sqrt = math.floor(math.sqrt(n))
    while True:
        while n % p:
            p = {4: 2, 2: 3}.get(p, p + 2)
            if p > floor_sqrt:
                p = n
        n //= p
        facs += [p, n]
        if n <= 1:
            return facs


def kf_work(re, im, offset, fstride, factors, tw_re, tw_im):
    p, m = factors[0], factors[1]
    if m == 1:
        idx = offset + fstride * np.arange(p)
        out_re, out_im = re[idx].copy(), im[idx].copy()
    else:
        parts = [kf_work(re, im, offset + k * fstride, fstride * p, factors[2:], tw_re, tw_im)
                 for k in range(p)]
        out_re = np.concatenate([a for a, _ in parts])
        out_im = np.concatenate([b for _, b in parts])
    k = np.arange(m)
    if p == 2:
        ar, ai = fixdiv(out_re[:m], 2), fixdiv(out_im[:m], 2)
        br, bi = fixdiv(out_re[m:], 2), fixdiv(out_im[m:], 2)
        tr, ti = cmul(br, bi, tw_re[k * fstride], tw_im[k * fstride])
        return (np.concatenate([w16(ar + tr), w16(ar - tr)]),
                np.concatenate([w16(ai + ti), w16(ai - ti)]))
    assert p == 4
    f = [(fixdiv(out_re[j * m:(j + 1) * m], 4), fixdiv(out_im[j * m:(j + 1) * m], 4))
         for j in range(4)]
    s0 = cmul(*f[1], tw_re[k * fstride], tw_im[k * fstride])
    s1 = cmul(*f[2], tw_re[2 * k * fstride], tw_im[2 * k * fstride])
    s2 = cmul(*f[3], tw_re[3 * k * fstride], tw_im[3 * k * fstride])
    s5 = (w16(f[0][0] - s1[0]), w16(f[0][1] - s1[1]))
    a = (w16(f[0][0] + s1[0]), w16(f[0][1] + s1[1]))
    s3 = (w16(s0[0] + s2[0]), w16(s0[1] + s2[1]))
    s4 = (w16(s0[0] - s2[0]), w16(s0[1] - s2[1]))
    o0 = (w16(a[0] + s3[0]), w16(a[1] + s3[1]))
    o2 = (w16(a[0] - s3[0]), w16(a[1] - s3[1]))
    o1 = (w16(s5[0] + s4[1]), w16(s5[1] - s4[0]))
    o3 = (w16(s5[0] - s4[1]), w16(s5[1] + s4[0]))
    return (np.concatenate([o0[0], o1[0], o2[0], o3[0]]),
            np.concatenate([o0[1], o1[1], o2[1], o3[1]]))


class RealFft:
    def __init__(self, n):
        self.ncfft = n // 2
        tw = [kiss_cexp(-2 * KPI * i / self.ncfft) for i in range(self.ncfft)]
        self.tw_re = np.array([t[0] for t in tw], dtype=np.int64)
        self.tw_im = np.array([t[1] for t in tw], dtype=np.int64)
        self.super = [kiss_cexp(-KPI * (float(i + 1) / self.ncfft + 0.5))
                      for i in range(self.ncfft // 2)]
        self.factors = kf_factor(self.ncfft)

    def __call__(self, x):
        x = np.asarray(x, dtype=np.int64)
        tr, ti = kf_work(x[0::2], x[1::2], 0, 1, self.factors, self.tw_re, self.tw_im)
        tr, ti = [int(v) for v in tr], [int(v) for v in ti]
        n = self.ncfft
        out = [(0, 0)] * (n + 1)
        dcr, dci = fixdiv(tr[0], 2), fixdiv(ti[0], 2)
        out[0] = (w16(dcr + dci), 0)
        out[n] = (w16(dcr - dci), 0)
        for k in range(1, n // 2 + 1):
            fpk = (fixdiv(tr[k], 2), fixdiv(ti[k], 2))
            fpnk = (fixdiv(tr[n - k], 2), fixdiv(w16(-ti[n - k]), 2))
            f1k = (w16(fpk[0] + fpnk[0]), w16(fpk[1] + fpnk[1]))
            f2k = (w16(fpk[0] - fpnk[0]), w16(fpk[1] - fpnk[1]))
            twr, twi = cmul(f2k[0], f2k[1], *self.super[k - 1])
            out[k] = (w16((f1k[0] + twr) >> 1), w16((f1k[1] + twi) >> 1))
            out[n - k] = (w16((f1k[0] - twr) >> 1), w16((twi - f1k[1]) >> 1))
        return out


# ---------------------------------------------------------------- the stages
def sqrt32(num):
    if num == 0:
        return 0
    res = 0
    max_bit = (32 - msb(num)) | 1
    bit = 1 << (31 - max_bit)
    for _ in range((31 - max_bit) // 2 + 1):
        if num >= res + bit:
            num -= res + bit
            res = (res >> 1) + bit
        else:
            res >>= 1
        bit >>= 2
    if num > res and res != 0xFFFF:
        res += 1
    return res


def sqrt64(num):
    if num >> 32 == 0:
        return sqrt32(num)
    res = 0
    max_bit = (64 - msb(num)) | 1
    bit = 1 << (63 - max_bit)
    for _ in range((63 - max_bit) // 2 + 1):
        if num >= res + bit:
            num -= res + bit
            res = (res >> 1) + bit
        else:
            res >>= 1
        bit >>= 2
    if num > res and res != 0xFFFFFFFF:
        res += 1
    return res & 0xFFFFFFFF


def wide_dynamic(x, lut):
    if x <= 2:
        return lut[x]
    interval = msb(x)
    base = 4 * interval - 6
    frac = w16(((x << (11 - interval)) if interval < 11 else (x >> (interval - 11))) & 0x3FF)
    result = (lut[base + 2] * frac) >> 5
    result += lut[base + 1] * 32
    result *= frac
    result = (result + (1 << 14)) >> 15
    return w16(result + lut[base])


def pcan_shrink(x):
    if x < (2 << 12):
        return (x * x) >> 20
    return u32((x >> 6) - 64)


def log_scaled(x, shift):
    integer = msb(x) - 1
    frac = x - (1 << integer)
    frac = frac << (16 - integer) if integer < 16 else frac >> (integer - 16)
    base_seg = frac >> 9
    c0, c1 = LOG_LUT[base_seg], LOG_LUT[base_seg + 1]
    rel = ((c1 - c0) * (frac - 512 * base_seg)) >> 16
    log2 = (integer << 16) + frac + c0 + rel
    loge = u32((45426 * log2 + 32768) >> 16)
    return u32(u32(loge << shift) + 32768) >> 16


class Frontend:
    def __init__(self, spec):
        self.spec = spec
        rate = spec['rate']
        self.window = spec['window'] * rate // 1000
        self.hop = spec['hop'] * rate // 1000
        self.fft_size = 1
        while self.fft_size < self.window:
            self.fft_size <<= 1
        self.coefs = window_table(self.window)
        self.fft = RealFft(self.fft_size)
        self.channels = spec['channels']
        self.fb = filterbank_tables(rate, self.fft_size // 2 + 1, self.channels,
                                    spec['lower'], spec['upper'])
        self.correction = msb(self.fft_size) - 1 - 6
        self.smoothing_bits = 10
        self.even, self.odd, self.min_remaining = (int(F32(F32(v) * F32(16384)))
                                                   for v in (0.025, 0.06, 0.05))
        self.pcan = spec.get('pcan', True)
        self.lut = pcan_lut(self.smoothing_bits - self.correction)
        self.snr_shift = 21 - self.correction - 12
        self.log = spec.get('log', True)
        self.log_shift = spec.get('log_shift', 6)
        self.mfcc = spec.get('mfcc', 0)
        self.estimate = [0] * self.channels

    def frame(self, samples):
        windowed, max_abs = [], 0
        for s, c in zip(samples, self.coefs):
            v = w16((s * c) >> 12)
            windowed.append(v)
            a = w16(-v) if v < 0 else v
            max_abs = max(max_abs, a)
        shift = 15 - msb(max_abs)
        x = [w16((v & 0xFFFF) << shift) for v in windowed]
        x += [0] * (self.fft_size - len(x))
        spectrum = self.fft(x)
        fb = self.fb
        energy = [0] * (self.fft_size // 2 + 1)
        for i in range(fb['start'], fb['end']):
            r, im = spectrum[i]
            e = u32(r * r + im * im)
            energy[i] = e - (1 << 32) if e >= 1 << 31 else e  # TFLM's int32 array
        mask = (1 << 64) - 1
        work, wacc, uacc = [], 0, 0
        for ch in range(self.channels + 1):
            f0, w0 = fb['freq_starts'][ch], fb['weight_starts'][ch]
            for j in range(fb['widths'][ch]):
                mag = energy[f0 + j] & mask
                wacc = (wacc + (fb['weights'][w0 + j] & mask) * mag) & mask
                uacc = (uacc + (fb['unweights'][w0 + j] & mask) * mag) & mask
            work.append(wacc)
            wacc, uacc = uacc, 0
        signal = [sqrt64(w) >> shift for w in work[1:]]
        bits = self.smoothing_bits
        for i in range(self.channels):
            smoothing = self.even if i % 2 == 0 else self.odd
            up = u32(signal[i] << bits)
            est = u32((up * smoothing + self.estimate[i] * (16384 - smoothing)) >> 14)
            self.estimate[i] = est
            est = min(est, up)
            floor = u32((signal[i] * self.min_remaining) >> 14)
            signal[i] = max((up - est) >> bits, floor)
        if self.pcan:
            for i in range(self.channels):
                gain = u32(wide_dynamic(self.estimate[i], self.lut))
                signal[i] = pcan_shrink(u32((signal[i] * gain) >> self.snr_shift))
        out = []
        for v in signal:
            if self.log:
                v = v >> -self.correction if self.correction < 0 else u32(v << self.correction)
                v = log_scaled(v, self.log_shift) if v > 1 else 0
            out.append(min(v, 0xFFFF))
        if self.mfcc:
            n = self.channels
            table = [[round_half_away(math.sqrt((1.0 if k == 0 else 2.0) / n) *
                                      math.cos(KPI * k * (i + 0.5) / n) * (1 << 14))
                      for i in range(n)] for k in range(self.mfcc)]
            out = [(sum(c * v for c, v in zip(row, out)) + (1 << 13)) >> 14 for row in table]
        return out

    def run(self, pcm):
        frames, start = [], 0
        while start + self.window <= len(pcm):
            frames.append(self.frame(pcm[start:start + self.window]))
            start += self.hop
        return frames


def round_half_away(x):
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def to_int8(values, feature_scale, input_scale, zero_point):
    real = float(F32(feature_scale)) / float(F32(input_scale))
    shift = 0
    while real * 2.0 ** shift < 2 ** 30 and shift < 62:
        shift += 1
    mult = round_half_away(real * 2.0 ** shift)
    return [max(-128, min(127, zero_point + ((v * mult + (1 << (shift - 1))) >> shift)))
            for v in values]


# ---------------------------------------------------------------- the generated cases
def signals(rate, seconds, seed):
    rng = np.random.default_rng(seed)
    n = int(rate * seconds)
    t = np.arange(n) / rate
    chirp = 9000 * np.sin(2 * np.pi * (200 + 1800 * t) * t)
    noise = rng.normal(0, 1500, n)
    speechy = chirp * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)) + noise
    square = np.where((np.arange(n) // 8) % 2 == 0, 32767, -32768)
    clipped = np.clip(60000 * np.sin(2 * np.pi * 440 * t), -32768, 32767)
    impulses = np.zeros(n)
    impulses[::997] = -32768
    return {
        'speechy': np.clip(np.round(speechy), -32768, 32767),
        'silence': np.zeros(n),
        'full_scale': square,
        'clipped': np.round(clipped),
        'impulses': impulses,
        'quiet_noise': np.round(rng.normal(0, 3, n)),
    }


MICRO_SPEECH = dict(rate=16000, window=30, hop=20, channels=40, lower=125.0, upper=7500.0,
                    pcan=True, log=True, log_shift=6)
QUANT = dict(input_scale=0.1015625, input_zero_point=-128, feature_scale=1 / 25.6)


def write_case(out_dir, name, spec, pcm):
    pcm = np.asarray(pcm, dtype=np.int16)
    frames = Frontend(spec).run([int(v) for v in pcm])
    flat = [v for f in frames for v in f]
    q = [v for f in frames for v in to_int8(f, QUANT['feature_scale'], QUANT['input_scale'],
                                            QUANT['input_zero_point'])]
    with open(os.path.join(out_dir, name + '.json'), 'w') as f:
        json.dump(dict(spec=spec, **QUANT), f)
    pcm.astype('<i2').tofile(os.path.join(out_dir, name + '.pcm'))
    np.asarray(flat, dtype='<i4').tofile(os.path.join(out_dir, name + '.features'))
    np.asarray(q, dtype=np.int8).tofile(os.path.join(out_dir, name + '.int8'))


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name, pcm in signals(16000, 0.5, 7).items():
        write_case(out_dir, 'micro_speech_' + name, MICRO_SPEECH, pcm)
    variants = {
        'no_pcan': dict(MICRO_SPEECH, pcan=False),
        'no_log': dict(MICRO_SPEECH, log=False, pcan=False),
        'rate8k_radix2': dict(MICRO_SPEECH, rate=8000, channels=32, upper=3800.0),
        'mfcc13': dict(MICRO_SPEECH, mfcc=13),
        'tflm_unit': dict(rate=1000, window=25, hop=10, channels=2, lower=8.0, upper=450.0,
                          pcan=True, log=True, log_shift=6),
    }
    for name, spec in variants.items():
        pcm = signals(spec['rate'], 0.4, 11)['speechy']
        write_case(out_dir, name, spec, pcm)


if __name__ == '__main__':
    main()
