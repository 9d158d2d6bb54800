"""The lean HTTP client over TLS, as to api.telegram.org: a trusted certificate works, an unknown one is refused."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from telegram.error import NetworkError
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from bot.transport.http import LeanRequest

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")


class GetMe(RequestHandler):
    def post(self, token: str) -> None:
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Hub", "token": token}}))


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    return cert, key


@pytest.fixture
async def https_port(certificate):
    cert, key = certificate
    server = HTTPServer(Application([(r"/bot([^/]+)/getMe", GetMe)]),
                        ssl_options={"certfile": str(cert), "keyfile": str(key)})
    sockets = bind_sockets(0, "127.0.0.1")
    server.add_sockets(sockets)
    yield sockets[0].getsockname()[1]
    server.stop()
    await server.close_all_connections()


async def test_a_trusted_certificate_is_accepted_and_the_connection_kept(https_port, certificate, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # honoured as by PTB's own client (httpx)
    request = LeanRequest(2)
    await request.initialize()
    try:
        for _ in range(3):
            result = await request.post(f"https://localhost:{https_port}/bot123:ABC/getMe")
            assert result["first_name"] == "Hub" and result["token"] == "123:ABC"
    finally:
        await request.shutdown()


async def test_an_unknown_certificate_is_refused(https_port, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    request = LeanRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match=r"(?i)certificate"):
            await request.post(f"https://localhost:{https_port}/bot123:ABC/getMe")
    finally:
        await request.shutdown()
