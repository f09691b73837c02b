"""The keywords example's data: one-second clips of words spoken by espeak-ng, made here.

Every clip is synthesized (espeak-ng, a voice variant on one of its English accents, a
speed and a pitch), passed through a room (sox `reverb`, or none), placed at a random
time in one second of 16 kHz audio and mixed with noise (white, pink or brown, made by
sox) at a random signal-to-noise ratio. "silence" clips are noise alone.

The split is fixed and by voice: the voice variants of the test split never speak in the
training or calibration splits (the accents, a smaller effect, are shared). Everything is
drawn from numpy RandomState streams seeded per split and voice, so the same code makes
the same clips, byte for byte.

Used by make_data.py (writes the clips and their features) and train.py (reads them).
"""
import os
import subprocess
import wave

import numpy as np

LABELS = ["silence", "unknown", "yes", "no", "up", "down", "left", "right", "on", "off",
          "stop", "go"]
KEYWORDS = LABELS[2:]
# Words that are none of the keywords ("unknown"), a few of them close in sound.
OTHER_WORDS = ["cat", "dog", "bird", "house", "tree", "happy", "seven", "wow", "learn",
               "follow", "forward", "bed", "zero", "one", "three", "four", "nine", "sheila",
               "visual", "yellow", "dune", "rice", "often", "gold"]
# espeak-ng's English accents (espeak-ng --voices=en, the non-mbrola ones).
ACCENTS = ["en-gb", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
           "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
# The voice variants (espeak-ng-data/voices/!v), one speaker each, split once by hand.
VOICES = {
    "train": ["m1", "m2", "m4", "m5", "m7", "f1", "f3", "klatt", "klatt4", "croak", "Alex",
              "Andy", "belinda", "benjamin", "edward", "linda"],
    "calibration": ["m6", "f5"],
    "test": ["m3", "f4", "klatt2", "Annie"],
}
SPEEDS = [120, 145, 170, 200]     # words per minute
PITCHES = [25, 40, 55, 70]        # espeak-ng -p, 0..99
REVERBS = [None, 20, 45, 70]      # sox reverb reverberance (%), None: a dry room
SNRS_DB = [5, 10, 20, 40]
NOISES = ["whitenoise", "pinknoise", "brownnoise"]

RATE = 16000
CLIP = RATE                # one second: the 49 frames the model sees
KEYWORD_TAKES = 6          # utterances of each keyword per voice
OTHER_TAKES = 1            # utterances of each other word per voice
SILENCE_CLIPS = 20         # noise-only clips per voice
AUGMENTS = {"train": 3, "calibration": 1, "test": 2}  # clips made from each utterance
SEED = 20261207


def synthesize(word, voice, accent, speed, pitch, reverb):
    """The word as int16 samples at RATE: espeak-ng, resampled (and reverberated) by sox."""
    speech = subprocess.run(
        ["espeak-ng", "-v", f"{accent}+{voice}", "-s", str(speed), "-p", str(pitch),
         "--stdout", word], check=True, capture_output=True).stdout
    effects = ["rate", str(RATE)] + (["reverb", str(reverb)] if reverb is not None else [])
    pcm = subprocess.run(["sox", "-R", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-b",
                          "16", "-e", "signed", "-c", "1", "-"] + effects,
                         input=speech, check=True, capture_output=True).stdout
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32)


def make_noise(kind, seconds):
    """`seconds` of sox's `kind` noise at full scale, as float samples (repeatable: -R)."""
    pcm = subprocess.run(["sox", "-R", "-n", "-t", "raw", "-r", str(RATE), "-b", "16", "-e",
                          "signed", "-c", "1", "-", "synth", str(seconds), kind],
                         check=True, capture_output=True).stdout
    noise = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
    return noise / (np.sqrt(np.mean(noise ** 2)) + 1e-9)  # unit RMS


def speech_span(samples):
    """The part of the utterance above 2% of its peak (espeak-ng pads words with silence)."""
    loud = np.flatnonzero(np.abs(samples) > 0.02 * np.abs(samples).max())
    return samples[loud[0]:loud[-1] + 1] if len(loud) else samples


def place(speech, rng):
    """The speech at a random start within one second (its middle if it is longer)."""
    clip = np.zeros(CLIP, dtype=np.float32)
    if len(speech) >= CLIP:
        start = (len(speech) - CLIP) // 2
        clip[:] = speech[start:start + CLIP]
    else:
        at = rng.randint(0, CLIP - len(speech) + 1)
        clip[at:at + len(speech)] = speech
    return clip


def mix(clip, noises, rng, snr_db=None):
    """The clip with a random stretch of one noise at `snr_db` (or at a random quiet level
    for silence clips), as int16."""
    noise = noises[NOISES[rng.randint(len(NOISES))]]
    at = rng.randint(0, len(noise) - CLIP)
    stretch = noise[at:at + CLIP]
    if snr_db is None:
        level = 10 ** rng.uniform(np.log10(30), np.log10(3000))  # int16 RMS 30..3000
    else:
        rms = np.sqrt(np.mean(speech_span(clip) ** 2)) + 1e-9
        level = rms / 10 ** (snr_db / 20)
    return np.clip(np.round(clip + level * stretch), -32768, 32767).astype("<i2")


def write_wav(path, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())


def utterances(split, voice):
    """(word, label, accent, speed, pitch, reverb) for one voice, drawn from its own stream."""
    rng = np.random.RandomState([SEED, 0, sorted(VOICES).index(split),
                                 VOICES[split].index(voice)])
    items = [(w, LABELS.index(w)) for w in KEYWORDS for _ in range(KEYWORD_TAKES)]
    items += [(w, LABELS.index("unknown")) for w in OTHER_WORDS for _ in range(OTHER_TAKES)]
    out = []
    for word, label in items:
        out.append((word, label, ACCENTS[rng.randint(len(ACCENTS))],
                    SPEEDS[rng.randint(len(SPEEDS))], PITCHES[rng.randint(len(PITCHES))],
                    REVERBS[rng.randint(len(REVERBS))]))
    return out


def split_paths(data_dir, split):
    """The files make_data.py writes for a split."""
    return {"features": os.path.join(data_dir, f"{split}.bin"),
            "labels": os.path.join(data_dir, f"{split}_labels.bin"),
            "voices": os.path.join(data_dir, f"{split}_voices.txt")}


def load_split(data_dir, split, frames=49, channels=40):
    """(features float32 [N,1,frames,channels], labels uint8 [N]) as make_data.py wrote them."""
    paths = split_paths(data_dir, split)
    labels = np.fromfile(paths["labels"], dtype=np.uint8)
    features = np.fromfile(paths["features"], dtype="<f4").reshape(len(labels), 1, frames,
                                                                   channels)
    return features, labels
