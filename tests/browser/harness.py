"""What the browser tests and ``bench/explorer.py`` share: a ``creditnet serve`` subprocess on a
data folder, Debian's Chromium driven by Playwright, a guard against requests to other origins,
and a check that a screenshot is not blank.

The subprocesses run this source tree (PYTHONPATH is the repository root), not whatever copy of
creditnet happens to be installed.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.conftest import ROOT

__all__ = [
    "CHROMIUM",
    "OriginGuard",
    "Served",
    "chromium_path",
    "cli",
    "png_stats",
    "serve",
]

CHROMIUM = "/usr/bin/chromium"
CLI = [sys.executable, "-c", "from api.cli import main; main()"]
START_TIMEOUT = 60.0


def chromium_path() -> str | None:
    """Debian's Chromium (``apt-get install chromium``), or another on PATH, or None."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def environment(folder: Path) -> dict[str, str]:
    """The environment of a creditnet subprocess whose data, keys and audit live in ``folder``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITNET_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["CREDITNET_STORE"] = "memory"
    env["CREDITNET_DATA_DIR"] = str(folder / "data")
    env["CREDITNET_KEYS_FILE"] = str(folder / "keys.json")
    env["CREDITNET_AUDIT_FILE"] = str(folder / "audit.jsonl")
    return env


def cli(args: list[str], folder: Path) -> str:
    """Run ``creditnet ARGS`` on ``folder``'s data; its standard output (fails on an error)."""
    done = subprocess.run(
        [*CLI, *args],
        env=environment(folder),
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"creditnet {' '.join(args)} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    return done.stdout


def add_key(folder: Path, role: str) -> str:
    printed = cli(["keys", "add", "--role", role, "--name", f"browser {role}", "--json"], folder)
    key: str = json.loads(printed)["key"]
    return key


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    """A running ``creditnet serve``; ``stop`` ends it."""

    base: str
    folder: Path
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def audit_file(self) -> Path:
        return self.folder / "audit.jsonl"

    def audit_events(self) -> list[dict[str, Any]]:
        if not self.audit_file.exists():
            return []
        lines = self.audit_file.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def serve(folder: Path) -> Served:
    """Serve ``folder``'s data on a free loopback port; return once /healthz answers."""
    port = _free_port()
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment(folder),
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    served = Served(f"http://127.0.0.1:{port}", folder, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"creditnet serve exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{served.base}/healthz", timeout=2.0).status_code == 200:
                return served
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    served.stop()
    raise RuntimeError(
        f"creditnet serve was not healthy after {START_TIMEOUT} s:\n{log.read_text()}"
    )


@dataclass
class OriginGuard:
    """A Playwright route handler that aborts, and records, every request to another origin: the
    explorer must work on a network with nothing but this server."""

    base: str
    foreign: list[str] = field(default_factory=list)

    def __call__(self, route: Any) -> None:
        url: str = route.request.url
        parts, ours = urlsplit(url), urlsplit(self.base)
        if (parts.scheme, parts.netloc) == (ours.scheme, ours.netloc):
            route.continue_()
            return
        self.foreign.append(url)
        route.abort()


def png_stats(png: bytes) -> tuple[int, float]:
    """(distinct colours, share of pixels unlike the top-left one) of an 8-bit RGB(A) PNG, as
    Chromium writes screenshots: enough to tell a drawn page from a blank one."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, chunks, header = 8, [], b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = data
        elif kind == b"IDAT":
            chunks.append(data)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError("only 8-bit, non-interlaced RGB or RGBA PNGs are read here")
    step = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * step
    previous = bytearray(stride)
    colours: set[bytes] = set()
    background: bytes | None = None
    unlike = 0
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up = previous[i]
            corner = previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        for x in range(0, stride, step * 4):  # every 4th pixel is plenty
            pixel = bytes(line[x : x + 3])
            if background is None:
                background = pixel
            colours.add(pixel)
            unlike += pixel != background
        previous = line
    sampled = height * ((width + 3) // 4)
    return len(colours), unlike / sampled
