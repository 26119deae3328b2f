"""grpc and the stubs ``cargo xtask loadtest`` generates from ``proto/`` with grpcio-tools.

Shared by ``baseline_server.py`` and ``smoke_client.py``; the stubs live outside the source tree
(``target/python-baseline/gen`` by default), so they are imported from a folder given at run time.
"""

from __future__ import annotations

import pathlib
import sys

#: Where ``cargo xtask loadtest`` generates the stubs.
DEFAULT_GEN = pathlib.Path(__file__).resolve().parents[2] / "target" / "python-baseline" / "gen"


def load(gen_dir: pathlib.Path, script: str) -> tuple:
    """Imports grpc and the stubs of ``gen_dir``.

    Returns ``(grpc, byova_common_pb2, voicevirtualagent_pb2, voicevirtualagent_pb2_grpc)``; exits
    with a message naming ``script`` when the stubs are missing.
    """
    if not (gen_dir / "voicevirtualagent_pb2.py").is_file():
        raise SystemExit(f"{script}: no generated stubs in {gen_dir} (run the xtask)")
    sys.path.insert(0, str(gen_dir))
    import grpc
    import byova_common_pb2
    import voicevirtualagent_pb2
    import voicevirtualagent_pb2_grpc

    return grpc, byova_common_pb2, voicevirtualagent_pb2, voicevirtualagent_pb2_grpc
