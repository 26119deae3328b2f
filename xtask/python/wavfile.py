"""8 kHz mono mu-law WAV files: the 44-byte header Webex expects, and a strict reader.

Shared by ``baseline_server.py`` (prompts and the echoed caller audio) and ``make_prompts.py``.
Standard library only.
"""

from __future__ import annotations

import struct

#: WAVE format tag of G.711 mu-law.
FORMAT_MULAW = 7
#: The only rate and channel count the demo agent plays.
SAMPLE_RATE = 8000
CHANNELS = 1
#: Length of the header :func:`mulaw_wav` writes.
HEADER_LEN = 44


class WavError(ValueError):
    """The bytes are not an 8 kHz mono mu-law WAV file."""


def mulaw_wav(data: bytes) -> bytes:
    """Wraps raw 8 kHz mono mu-law bytes in a 44-byte RIFF/WAVE header (format tag 7)."""
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        FORMAT_MULAW,
        CHANNELS,
        SAMPLE_RATE,
        SAMPLE_RATE,  # byte rate: one byte per sample
        1,  # block align
        8,  # bits per sample
        b"data",
        len(data),
    )
    return header + data


def read_mulaw_wav(wav: bytes) -> bytes:
    """Returns the mu-law samples of an 8 kHz mono mu-law WAV file.

    Walks the RIFF chunks (so a ``fact`` chunk or a longer ``fmt`` chunk is fine) and checks
    the format. Raises :class:`WavError` for anything else.
    """
    if len(wav) < 12 or wav[0:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise WavError("not a RIFF/WAVE file")
    fmt = None
    pos = 12
    while pos + 8 <= len(wav):
        chunk_id = wav[pos : pos + 4]
        (size,) = struct.unpack_from("<I", wav, pos + 4)
        body = wav[pos + 8 : pos + 8 + size]
        if len(body) < size:
            raise WavError(f"chunk {chunk_id!r} is cut short")
        if chunk_id == b"fmt ":
            if size < 16:
                raise WavError("fmt chunk too short")
            fmt = struct.unpack_from("<HHIIHH", body)
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError("data chunk before fmt chunk")
            tag, channels, rate, _byte_rate, _align, bits = fmt
            if (tag, channels, rate, bits) != (FORMAT_MULAW, CHANNELS, SAMPLE_RATE, 8):
                raise WavError(
                    f"format tag {tag}, {channels} channel(s), {rate} Hz, {bits} bits; "
                    f"expected mu-law (7), mono, {SAMPLE_RATE} Hz, 8 bits"
                )
            return bytes(body)
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    raise WavError("no data chunk")
