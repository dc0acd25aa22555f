"""DNS rebinding: a page elsewhere whose name an attacker points at 127.0.0.1 must not
read the drafts that `broadsheet serve` shows on this machine."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from broadsheet.serve.server import host_allowed
from tests.serve.conftest import Server

SECRET = "The minister resigns on Friday"
FOREIGN = [
    "attacker.example:{port}",
    "attacker.example",
    "localhost.attacker.example:{port}",
    "127.0.0.1.attacker.example:{port}",
    "127.0.0.1.nip.io:{port}",
    "evil.localhost:{port}",
    "localhost:{port}@attacker.example",
    "[::1].attacker.example",
    "0.0.0.0:{port}",
    "10.0.0.1:{port}",
]
LOCAL = [
    "localhost:{port}",
    "127.0.0.1:{port}",
    "localhost",
    "127.0.0.1",
    "LocalHost:{port}",
    "127.8.9.10:{port}",
    "[::1]:{port}",
    "[::1]",
]


def ask(
    server: Server, path: str, host: str, method: str = "GET", **headers: str
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, path, headers={"Host": host, **headers})
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    connection.close()
    return response.status, body


def test_a_foreign_host_gets_no_page_and_this_machine_gets_every_one(
    server: Server, seeded: Path
) -> None:
    (seeded / "content/asia/secret.md").write_text(
        f"---\ntitle: Secret\ndate: 2024-01-02\ndraft: true\n---\n\n{SECRET}.\n",
        encoding="utf-8",
    )
    server.wait_for("asia/secret/", lambda status, body: status == 200 and SECRET in body)
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13"}
    upgrade["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
    for shape in FOREIGN:
        host = shape.format(port=server.port)
        for path, method, headers in (
            ("/asia/secret/", "GET", {}),
            ("/asia/secret/", "HEAD", {}),
            ("/", "GET", {}),
            ("/no/such/page/", "GET", {}),
            ("/livereload.js", "GET", {}),
            ("/livereload", "GET", upgrade),
        ):
            status, body = ask(server, path, host, method, **headers)
            assert status == (400 if "@" in host else 403), (host, path, method, status)
            assert SECRET not in body and "<" not in body and len(body) < 300, (host, body)
    for shape in LOCAL:
        host = shape.format(port=server.port)
        status, body = ask(server, "/asia/secret/", host)
        assert status == 200 and SECRET in body, (host, status)
        assert ask(server, "/livereload.js", host)[0] == 200, host
    assert server.process.poll() is None


NAMES = st.sampled_from([*FOREIGN, *LOCAL, "", ":", "[", "[]:1", "::1", "localhost.", "127.1"])
OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
THIS_MACHINE = re.compile(
    rf"(localhost|127\.{OCTET}\.{OCTET}\.{OCTET}|\[(?P<ipv6>[0-9a-f:.]+)\])(:[0-9]{{1,5}})?", re.I
)


def this_machine(host: str) -> bool:
    """Names only this machine answers to, as a Host header gives them."""
    match = THIS_MACHINE.fullmatch(host)
    if match is None or match["ipv6"] is None:
        return match is not None
    with contextlib.suppress(ValueError):
        return ipaddress.IPv6Address(match["ipv6"]).is_loopback
    return False


@settings(max_examples=300, deadline=None)
@given(shape=st.one_of(NAMES, st.text(max_size=30)), port=st.integers(0, 65535))
def test_on_loopback_it_answers_only_names_of_this_machine(shape: str, port: int) -> None:
    host = shape.replace("{port}", str(port))
    for bound in ("127.0.0.1", "::1"):
        assert host_allowed(bound, host) == this_machine(host), (bound, host)
    for bound in ("0.0.0.0", "::", "192.168.1.20", "example.org"):
        assert host_allowed(bound, host)  # the user asked for it (and was warned)


def test_on_loopback_it_also_answers_the_exact_host_it_was_started_with() -> None:
    assert host_allowed("127.0.0.2", "127.0.0.2:8000")
    assert host_allowed("localhost", "localhost:8000")
    assert not host_allowed("127.0.0.1", "example.org:8000")
