"""Real servers on loopback for the distributed tests: Redis, RabbitMQ, PostgreSQL and an
S3 server.

Redis, RabbitMQ and PostgreSQL are Debian's binaries (scripts/run.sh installs them); S3 is moto in
server mode, reached through `PausableProxy` so that a test can make it briefly
unreachable. A fixture skips only when its binary is truly missing.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

S3_KEY, S3_SECRET = "sohoa-test", "sohoa-test-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


class RedisServer:
    """`redis-server` with append-only persistence, restartable on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.dir = free_port(), workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def restart(self, down_seconds: float = 0.0) -> None:
        self.stop()
        time.sleep(down_seconds)
        self.start()


class PostgresServer:
    """A throwaway PostgreSQL cluster in a temporary directory (as `postgres` when root)."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not bins:
            raise FileNotFoundError("initdb")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="sohoa-pg-"))
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *cmd: str) -> None:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True)

    def start(self) -> None:
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = str(self.dir / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "sohoa", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -F"
        self._run(str(self.bin / "pg_ctl"), "-D", data, "-o", opts, "-w", "-l",
                  str(self.dir / "log"), "start")  # fmt: skip

    def postmaster_pid(self) -> int:
        """The server's main process (its backends are its children)."""
        return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                      "stop")  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        dsn = f"host=127.0.0.1 port={self.port} user=sohoa dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://sohoa@127.0.0.1:{self.port}/{name}"


class PausableProxy:
    """A TCP forwarder to `target_port`; `pause()` refuses every connection until `resume()`."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self._paused = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", self.port))
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def pause(self) -> None:
        self._paused.set()
        for c in self._conns:
            with contextlib.suppress(OSError):
                c.shutdown(socket.SHUT_RDWR)
        self._conns.clear()

    def resume(self) -> None:
        self._paused.clear()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            if self._paused.is_set():
                client.close()  # the store sees a reset connection: unreachable
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._sock.close()


class S3Server:
    """moto in server mode behind a pausable proxy."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request else
        self.moto_port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self.server.start()
        wait_port(self.moto_port)
        self.proxy = PausableProxy(self.moto_port)

    def url(self, bucket: str) -> str:
        return f"s3://{S3_KEY}:{S3_SECRET}@{bucket}?endpoint=127.0.0.1:{self.proxy.port}"

    def stop(self) -> None:
        self.proxy.close()
        self.server.stop()


class S3ProcessServer:
    """moto in server mode in a process of its own, reached directly (no proxy): for the
    benchmark, which measures each server's CPU apart from the client's."""

    def __init__(self) -> None:
        from moto import server

        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, server.__file__, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_port(self.port)

    def url(self, bucket: str) -> str:
        return f"s3://{S3_KEY}:{S3_SECRET}@{bucket}?endpoint=127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(30)


RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")


class RabbitMQServer:
    """A throwaway RabbitMQ node (Debian's `rabbitmq-server`) with its own name, ports and
    data directory; the default guest user may connect from loopback."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.dir = free_port(), workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        env = {
            **os.environ,
            "RABBITMQ_NODENAME": f"sohoa-{uuid.uuid4().hex[:8]}@localhost",
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "none"),
        }
        self.proc = subprocess.Popen(
            [str(RABBITMQ_SERVER)], env=env, cwd=self.dir, start_new_session=True,
            stdout=(self.dir / "server.log").open("ab"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_port(self.port, timeout=90)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, 15)
            self.proc.wait(30)
        # Erlang leaves its port mapper daemon behind: end it when no other node uses it
        names = subprocess.run(["epmd", "-names"], capture_output=True, text=True, check=False)
        if "name " not in names.stdout:
            subprocess.run(["epmd", "-kill"], capture_output=True, check=False)


def need(binary: str) -> None:
    if shutil.which(binary) is None and not glob.glob(f"/usr/lib/postgresql/*/bin/{binary}"):
        pytest.skip(f"{binary} is not installed (bash scripts/run.sh setup installs it)")


@pytest.fixture(scope="module", name="redis_server")
def redis_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    need("redis-server")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", name="rabbitmq_server")
def rabbitmq_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQServer]:
    if not RABBITMQ_SERVER.exists():
        pytest.skip("rabbitmq-server is not installed (bash scripts/run.sh setup installs it)")
    server = RabbitMQServer(tmp_path_factory.mktemp("rabbitmq"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", name="postgres_server")
def postgres_server_fixture() -> Iterator[PostgresServer]:
    need("initdb")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module", name="s3_server")
def s3_server_fixture() -> Iterator[S3Server]:
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    server = S3Server()
    yield server
    server.stop()
