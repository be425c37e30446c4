"""The app's server settings (.streamlit/config.toml) as a browser meets them: a page on
another host name that resolves to 127.0.0.1 (DNS rebinding) gets no WebSocket, so it
can read no project."""

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow  # subprocesses, servers or whole page runs

CONFIG = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_only_loopback_names_and_address():
    server = CONFIG["server"]
    assert server["address"] == "127.0.0.1"
    assert set(server["allowedHosts"]) <= {"localhost", "127.0.0.1", "::1", "[::1]"}
    assert "localhost" in server["allowedHosts"] and "127.0.0.1" in server["allowedHosts"]


def test_taiyaku_app_runs_with_the_same_settings(monkeypatch):
    """``taiyaku app`` (an installed package has no .streamlit folder) passes
    every setting of the repository's config.toml on the command line."""
    from align import __main__ as cli
    argv = []

    def execv(path, args):
        argv.extend(args)
    monkeypatch.setattr(cli.os, "execv", execv)
    cli.main(["app", "--port", "8599"])
    flags: dict[str, list] = {}
    for flag, value in zip(argv[5::2], argv[6::2]):
        flags.setdefault(flag, []).append(value)
    for section, values in CONFIG.items():
        for key, value in values.items():  # a list once a value, as Streamlit reads it
            expected = value if isinstance(value, list) else [str(value).lower() if isinstance(value, bool)
                                                              else str(value)]
            assert flags.get(f"--{section}.{key}") == expected, (section, key)


def test_a_port_in_use_is_said_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run([sys.executable, "-m", "align", "app", "--port", str(port)], cwd=REPO,
                             capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr == f"taiyaku: --port {port}: in use (the app already running?); " \
        "give another port\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _request(port: int, host: str, path: str, extra: str = "Connection: close\r\n") -> bytes:
    """The status line and headers of one raw HTTP request with this Host header."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def _upgrade(port: int, host: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return _request(port, host, "/_stcore/stream",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: streamlit\r\n"
                    f"Origin: http://{host}\r\n").split(b"\r\n")[0]


@pytest.fixture(scope="module", params=["streamlit run", "taiyaku app"])
def server(request, tmp_path_factory):
    """The app as the README starts it, either way: from the repository (its
    config.toml) or as an installed command (its flags), from a folder without one."""
    port = _free_port()
    env = {**os.environ, "TAIYAKU_DB": str(tmp_path_factory.mktemp("db") / "p.sqlite3"),
           "STREAMLIT_SERVER_HEADLESS": "true"}
    command, cwd = ((["-m", "streamlit", "run", "app.py", "--server.port", str(port)], REPO)
                    if request.param == "streamlit run" else
                    (["-m", "align", "app", "--port", str(port)], tmp_path_factory.mktemp("elsewhere")))
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.Popen([sys.executable, *command], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while b" 200 " not in _try(lambda: _request(port, "127.0.0.1", "/_stcore/health")):
            assert proc.poll() is None, "streamlit exited"
            assert time.monotonic() < deadline, "streamlit did not answer in 120 s"
            time.sleep(0.2)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _try(call) -> bytes:
    try:
        return call()
    except OSError:
        return b""


def test_a_foreign_host_gets_no_websocket(server):
    port = server
    assert b" 101 " in _upgrade(port, f"127.0.0.1:{port}")        # the check can pass
    assert b" 101 " in _upgrade(port, f"localhost:{port}")
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}",
                 f"localhost.:{port}x"):
        status = _upgrade(port, host)
        assert status.startswith(b"HTTP/1.1 ") and b" 101 " not in status, (host, status)


def test_the_page_a_foreign_host_may_get_holds_no_project(server):
    """Streamlit serves its static page whatever the Host (no setting stops that); the page
    is the same JavaScript bundle for every app and carries no data: projects only ever
    travel over the WebSocket refused above."""
    head = _request(server, "evil.example", "/")
    assert b"Taiyaku" not in head and b"sqlite" not in head.lower()
