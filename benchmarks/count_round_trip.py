"""Instructions per end-to-end round trip, of the server or of the client process, by callgrind.

    python benchmarks/count_round_trip.py server typed
    python benchmarks/count_round_trip.py client raw_codec --round-trips 2000
    python benchmarks/count_round_trip.py server raw typed --client node

One ``e2e_server.py`` server of the variant (``raw``, ``raw_codec``, ``typed``,
``typed_engineio``) and one client of the same variant making sequential ``call()`` round trips,
as ``test_end_to_end.py`` does at N = 1; the process named runs under callgrind with a fixed hash
seed. After a warm-up of 300 calls its counters are zeroed (``callgrind_control -z``), the round
trips run, and its counters are dumped (``callgrind_control -d``): the dump over
``--round-trips`` is the count per round trip. Repeat runs agree within a few thousand
instructions per round trip (the session ids are random). Needs ``valgrind``; about 45 s per
variant for 2,000 round trips. Run it as a script (its directory is then on the import path, as
the benchmark modules it uses expect).

``--client node`` (server side only): the peer is the official JavaScript ``socket.io-client``
(``node_client.cjs``, one connection making sequential ``emitWithAck`` calls, as
``test_end_to_end_node.py`` does at N = 1), one node run per step: a warm-up run of 300 calls, then
the counters zeroed, a run of ``--round-trips`` calls and a dump, then zeroed again, a run of none
(the connection and its close alone) and a dump; the count per round trip is the difference of the
two dumps over ``--round-trips``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from e2e_server import production_logging
from test_end_to_end import call_once, free_port, new_client
from test_end_to_end_node import run_client

_HERE = Path(__file__).resolve().parent

_TOTAL = re.compile(r"^summary:\s*(\d+)", re.MULTILINE)
_WARM_UP = 300


async def _client(variant: str, url: str, round_trips: int) -> None:
    """The client process: connect, warm up, say ``warm``, wait for a line, run, say ``done``."""
    peer: Any = new_client(variant)
    raw = getattr(peer, "sio", peer)  # the python-socketio client behind a typed face
    await raw.connect(url, transports=["websocket"], wait_timeout=10)
    for _ in range(_WARM_UP):
        await call_once(variant, peer)
    print("warm", flush=True)
    sys.stdin.readline()
    for _ in range(round_trips):  # sequential calls, a fixed number of them
        await call_once(variant, peer)
    print("done", flush=True)
    sys.stdin.readline()
    await raw.disconnect()


def count(side: str, variant: str, round_trips: int) -> int:
    """Instructions per round trip of the ``side`` (``server``/``client``) process of ``variant``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        grind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p"]
        port = free_port()
        server_cmd = [sys.executable, str(_HERE / "e2e_server.py"), variant, str(port)]
        server = subprocess.Popen(
            (grind if side == "server" else []) + server_cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        client_cmd = [
            sys.executable,
            __file__,
            "--inside",
            variant,
            f"http://127.0.0.1:{port}",
            str(round_trips),
        ]
        client = subprocess.Popen(
            (grind if side == "client" else []) + client_cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        measured = server if side == "server" else client
        try:
            assert client.stdout is not None and client.stdin is not None
            assert client.stdout.readline().strip() == "warm"
            subprocess.run(["callgrind_control", "-z", str(measured.pid)], check=True, capture_output=True)
            client.stdin.write("go\n")
            client.stdin.flush()
            assert client.stdout.readline().strip() == "done"
            subprocess.run(["callgrind_control", "-d", str(measured.pid)], check=True, capture_output=True)
            client.stdin.write("bye\n")
            client.stdin.flush()
            client.wait(60)
        finally:
            server.terminate()
            server.wait(60)
            if client.poll() is None:  # pragma: no cover - a failed run
                client.kill()
        dump = Path(f"{out}.{measured.pid}.1")
        match = _TOTAL.search(dump.read_text())
        assert match is not None, f"no summary in {dump}"
        return int(match.group(1)) // round_trips


def _dumped_total(path: Path) -> int:
    match = _TOTAL.search(path.read_text())
    assert match is not None, f"no summary in {path}"
    return int(match.group(1))


def count_node(variant: str, round_trips: int) -> int:
    """Instructions per round trip of the server process of ``variant``, node's client calling."""
    node = shutil.which("node")
    if node is None:
        raise SystemExit("--client node needs node (and `npm ci` in tests/typescript/node)")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        grind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p"]
        server = subprocess.Popen(
            [*grind, sys.executable, str(_HERE / "e2e_server.py"), variant, str(port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )

        def control(flag: str) -> None:
            time.sleep(1)  # the server done with the last close
            subprocess.run(["callgrind_control", flag, str(server.pid)], check=True, capture_output=True)

        try:
            assert server.stdout is not None and server.stdout.readline().strip() == "ready"
            run_client(node, url, 1, 0, _WARM_UP)
            control("-z")
            run_client(node, url, 1, round_trips, 0)
            control("-d")
            control("-z")
            run_client(node, url, 1, 0, 0)
            control("-d")
        finally:
            server.terminate()
            server.wait(60)
        calls = _dumped_total(Path(f"{out}.{server.pid}.1"))
        connection_alone = _dumped_total(Path(f"{out}.{server.pid}.2"))
        return (calls - connection_alone) // round_trips


def main() -> None:
    """Parse the command line and print the count."""
    if sys.argv[1:2] == ["--inside"]:
        variant, url, round_trips = sys.argv[2], sys.argv[3], int(sys.argv[4])
        production_logging()  # as the server process and the benchmark have it
        asyncio.run(_client(variant, url, round_trips))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("side", choices=("server", "client"))
    parser.add_argument("variants", nargs="+", choices=("raw", "raw_codec", "typed", "typed_engineio"))
    parser.add_argument("--round-trips", type=int, default=2_000)
    parser.add_argument(
        "--client",
        choices=("python", "node"),
        default="python",
        help="the peer: the variant's python-socketio client, or node's socket.io-client (server side only)",
    )
    args = parser.parse_args()
    if args.client == "node" and args.side != "server":
        parser.error("--client node counts the server side only")
    for variant in args.variants:
        if args.client == "node":
            per, peer = count_node(variant, args.round_trips), " (node client)"
        else:
            per, peer = count(args.side, variant, args.round_trips), ""
        print(f"{args.side} {variant}{peer}: {per:,} instructions per round trip", flush=True)


if __name__ == "__main__":
    main()
