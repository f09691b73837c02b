#!/usr/bin/python3
"""Makes the keywords example's data: synthesized clips and their front-end features.

    /usr/bin/python3 examples/keywords/make_data.py [--tinyforge build/host/tinyforge]
                                                    [--out examples/keywords/data] [--jobs 2]

Needs espeak-ng and sox (scripts/bootstrap) and numpy. For each split (keywords_data.py:
train, calibration, test; split by voice) it synthesizes the clips and runs them through
`tinyforge features --frontend FRONTEND`, the runtime's own micro front-end, so the float
features are exactly those the device computes (before the int8 step, which uses the
quantized model's input scale). Files in --out (not committed):
  SPLIT.bin           float32 [N,1,49,40] per split: the model's input, feature * 1/25.6
  SPLIT_labels.bin    uint8 [N], indices into keywords_data.LABELS
  SPLIT_voices.txt    one line per clip: voice accent word
  test_wav/NNNN.wav   the test clips themselves (for int8 features of a compiled model)
About two minutes on two cores, most of it espeak-ng.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keywords_data as kd  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FRONTEND = "frames=49"  # micro_speech's front-end (docs/cli.md), one second per input


def voice_clips(split, voice, noises):
    """[(int16 clip, label, description)] of one voice: its utterances, augmented, and its
    silence clips."""
    rng = np.random.RandomState([kd.SEED, 1, sorted(kd.VOICES).index(split),
                                 kd.VOICES[split].index(voice)])
    clips = []
    for word, label, accent, speed, pitch, reverb in kd.utterances(split, voice):
        speech = kd.speech_span(kd.synthesize(word, voice, accent, speed, pitch, reverb))
        for _ in range(kd.AUGMENTS[split]):
            snr = kd.SNRS_DB[rng.randint(len(kd.SNRS_DB))]
            clips.append((kd.mix(kd.place(speech, rng), noises, rng, snr), label,
                          f"{voice} {accent} {word}"))
    for _ in range(kd.SILENCE_CLIPS):
        clips.append((kd.mix(np.zeros(kd.CLIP, np.float32), noises, rng), 0,
                      f"{voice} - (noise)"))
    return clips


def features(tinyforge, wavs, out):
    """float32 features of the WAVs into `out`, in batches (the command line's length)."""
    with open(out, "wb") as f:
        for start in range(0, len(wavs), 400):
            part = out + ".part"
            subprocess.run([tinyforge, "features", "--quiet", "--frontend", FRONTEND, "-o",
                            part] + wavs[start:start + 400], check=True,
                           stdout=subprocess.DEVNULL)
            with open(part, "rb") as p:
                f.write(p.read())
            os.remove(part)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tinyforge", default=os.path.join(ROOT, "build/host/tinyforge"))
    ap.add_argument("--out", default=os.path.join(HERE, "data"))
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    noises = {kind: kd.make_noise(kind, 30) for kind in kd.NOISES}
    for split in ("train", "calibration", "test"):
        with ThreadPoolExecutor(a.jobs) as pool:
            per_voice = list(pool.map(lambda v: voice_clips(split, v, noises),
                                      kd.VOICES[split]))
        clips = [c for voice in per_voice for c in voice]
        paths = kd.split_paths(a.out, split)
        with tempfile.TemporaryDirectory() as tmp:
            wav_dir = os.path.join(a.out, "test_wav") if split == "test" else tmp
            if split == "test":
                shutil.rmtree(wav_dir, ignore_errors=True)
                os.makedirs(wav_dir)
            wavs = []
            for i, (samples, _, _) in enumerate(clips):
                wavs.append(os.path.join(wav_dir, f"{i:04d}.wav"))
                kd.write_wav(wavs[-1], samples)
            features(a.tinyforge, wavs, paths["features"])
        np.array([c[1] for c in clips], dtype=np.uint8).tofile(paths["labels"])
        with open(paths["voices"], "w") as f:
            f.writelines(c[2] + "\n" for c in clips)
        counts = np.bincount([c[1] for c in clips], minlength=len(kd.LABELS))
        print(f"{split}: {len(clips)} clips from {len(kd.VOICES[split])} voices "
              f"(per class {dict(zip(kd.LABELS, counts.tolist()))}) -> {paths['features']}")


if __name__ == "__main__":
    main()
