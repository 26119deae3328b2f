//! G.711 μ-law / A-law codecs, WAV read/write, resampling and chunking.
