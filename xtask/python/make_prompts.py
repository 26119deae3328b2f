#!/usr/bin/env python3
"""Generates the demo agent's prompts (docs/demo-agent.md) with espeak-ng and sox.

Writes 8 kHz mono mu-law WAV files (format tag 7, 44-byte header) into
``crates/byova-cli/assets/prompts/`` (or ``--out``). Each phrase is spoken by espeak-ng,
resampled to 8 kHz by sox (with its anti-alias filter), trimmed to the audible part, padded
with 100 ms of silence on both sides and encoded to mu-law.

Needs ``espeak-ng`` and ``sox`` on PATH (Debian packages of the same names). Standard library
only otherwise; run it with any Python 3.11:

    python3 xtask/python/make_prompts.py
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile
import warnings

with warnings.catch_warnings():
    # Deprecated since 3.11 and removed in 3.13; present in the 3.11 this runs on.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

from wavfile import mulaw_wav

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "crates" / "byova-cli" / "assets" / "prompts"

#: File name and words, exactly as in docs/demo-agent.md.
PROMPTS = [
    (
        "greeting.wav",
        "Hello, this is the byova demo agent. Say something and I will play it back. "
        "Press 1 to hear this again, 0 for an agent, or pound to hang up.",
    ),
    ("you_said.wav", "You said:"),
    ("menu_help.wav", "Press 1 to hear the menu, 0 for an agent, or pound to hang up."),
    ("transfer.wav", "Transferring you to an agent."),
    ("goodbye.wav", "Thank you for calling. Goodbye."),
    ("no_input.wav", "Sorry, I did not hear anything."),
]

VOICE = "en-us"
WORDS_PER_MINUTE = 175
PAD_MS = 100


def synthesize(text: str, workdir: pathlib.Path) -> bytes:
    """Returns 8 kHz 16-bit mono PCM of ``text``, trimmed and padded."""
    spoken = workdir / "spoken.wav"
    subprocess.run(
        ["espeak-ng", "-v", VOICE, "-s", str(WORDS_PER_MINUTE), "-w", str(spoken), text],
        check=True,
    )
    pad = f"{PAD_MS / 1000:.3f}"
    # Resample, trim silence at both ends (below -45 dBFS), then pad with exact silence.
    pcm = subprocess.run(
        [
            "sox", str(spoken),
            "-t", "raw", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-L", "-",
            "silence", "1", "0.01", "-45d", "reverse", "silence", "1", "0.01", "-45d", "reverse",
            "pad", pad, pad,
        ],
        check=True,
        capture_output=True,
    ).stdout
    if len(pcm) < 2 * 8000 * PAD_MS // 1000 * 3:
        raise RuntimeError(f"espeak-ng produced almost nothing for {text!r}")
    return pcm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="output folder")
    args = parser.parse_args()
    for program in ("espeak-ng", "sox"):
        if shutil.which(program) is None:
            print(f"make_prompts: `{program}` not found (apt-get install -y {program})", file=sys.stderr)
            return 1
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, text in PROMPTS:
            pcm = synthesize(text, pathlib.Path(tmp))
            wav = mulaw_wav(audioop.lin2ulaw(pcm, 2))
            (args.out / name).write_bytes(wav)
            seconds = (len(wav) - 44) / 8000
            print(f"{args.out / name}: {seconds:.2f} s, {len(wav)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
