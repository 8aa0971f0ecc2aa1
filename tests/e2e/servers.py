"""Real Pebble (ACME CA) and BIND9 (authoritative DNS with TSIG updates) for the e2e tier.

Each server runs from a private temporary directory on free ports and is
stopped by its owner. Start-up is confirmed by polling with a deadline, never
by sleeping a fixed time.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import requests

from events.localapi.tls import issue_serving_pems

LOOPBACK: Final = "127.0.0.1"
ZONE: Final = "example.test"
TSIG_KEY_NAME: Final = "certainly-test."
START_TIMEOUT: Final = 20.0


def free_port() -> int:
    """A TCP+UDP port that is free right now on the loopback address."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((LOOPBACK, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((LOOPBACK, port))
                except OSError:
                    continue
            return port


def wait_until(
    check: Callable[[], bool], *, what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    """Poll `check` until it holds; fail fast (with the log) if the process dies."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log)}")
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready in {START_TIMEOUT}s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- TLS for Pebble's own HTTPS listeners ---------------------------------------------------


@dataclass(frozen=True)
class TLSFiles:
    ca_pem: bytes
    cert_path: Path
    key_path: Path
    ca_path: Path


def make_tls(directory: Path) -> TLSFiles:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1."""
    material = issue_serving_pems(LOOPBACK, ca_name="certainly e2e TLS CA", days=1)
    files = TLSFiles(
        ca_pem=material.ca_pem,
        cert_path=directory / "cert.pem",
        key_path=directory / "key.pem",
        ca_path=directory / "ca.pem",
    )
    files.ca_path.write_bytes(material.ca_pem)
    files.cert_path.write_bytes(material.cert_pem)
    files.key_path.touch(mode=0o600)
    files.key_path.write_bytes(material.key_pem)
    return files


# --- BIND9 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bind9:
    """A running `named`, authoritative for example.test, accepting TSIG-signed updates."""

    port: int
    zone: str
    tsig_key_name: str
    tsig_algorithm: str  # cert-manager spelling, e.g. "HMACSHA256"
    tsig_secret: str = field(repr=False)  # base64
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def nameservers(self) -> list[str]:
        return [self.address]

    def stop(self) -> None:
        _stop(self.process)


ZONE_TEMPLATE: Final = """\
$ORIGIN {zone}.
$TTL 60
@       IN SOA ns1.{zone}. hostmaster.{zone}. ( 1 60 60 3600 1 )
@       IN NS  ns1.{zone}.
ns1     IN A   127.0.0.1
@       IN A   127.0.0.1
*       IN A   127.0.0.1
; a delegated challenge name, as users set up for cnameStrategy: Follow
_acme-challenge.alias IN CNAME _acme-challenge.target
"""

NAMED_CONF_TEMPLATE: Final = """\
options {{
    directory "{dir}";
    pid-file "{dir}/named.pid";
    session-keyfile "{dir}/session.key";
    managed-keys-directory "{dir}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
    allow-query {{ any; }};
}};
controls {{ }};
key "{key_name}" {{
    algorithm hmac-sha256;
    secret "{secret}";
}};
zone "{zone}" {{
    type primary;
    file "{dir}/{zone}.zone";
    allow-update {{ key "{key_name}"; }};
}};
"""


def start_bind9(*, named: str, directory: Path) -> Bind9:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    (directory / f"{ZONE}.zone").write_text(ZONE_TEMPLATE.format(zone=ZONE))
    conf = directory / "named.conf"
    conf.write_text(
        NAMED_CONF_TEMPLATE.format(
            dir=directory, port=port, key_name=TSIG_KEY_NAME, secret=secret, zone=ZONE
        )
    )
    log = directory / "named.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [named, "-g", "-c", str(conf), "-n", "1"],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
    server = Bind9(
        port=port,
        zone=ZONE,
        tsig_key_name=TSIG_KEY_NAME,
        tsig_algorithm="HMACSHA256",
        tsig_secret=secret,
        process=process,
        log=log,
    )
    try:
        wait_until(lambda: _answers_soa(port), what="named", process=process, log=log)
    except BaseException:
        server.stop()
        raise
    return server


def _answers_soa(port: int) -> bool:
    query = dns.message.make_query(f"{ZONE}.", dns.rdatatype.SOA)
    try:
        response = dns.query.udp(query, LOOPBACK, port=port, timeout=0.5)
    except (OSError, dns.exception.Timeout):
        return False
    return any(rrset.rdtype == dns.rdatatype.SOA for rrset in response.answer)


# --- Pebble -----------------------------------------------------------------------------------


# Fault injection stays on: every client path must survive rejected nonces and
# reused authorizations, as it must against Let's Encrypt.
PEBBLE_ENV: Final = {
    "PEBBLE_VA_NOSLEEP": "1",
    "PEBBLE_WFE_NONCEREJECT": "10",
    "PEBBLE_AUTHZREUSE": "50",
    "PEBBLE_ALTERNATE_ROOTS": "1",
}


@dataclass(frozen=True)
class Pebble:
    """A running Pebble whose validation authority resolves names through BIND9."""

    directory_url: str
    management_url: str
    http_port: int
    ca_bundle_pem: bytes  # trust for Pebble's HTTPS listeners (not for issued certs)
    ca_bundle_path: Path
    process: subprocess.Popen[bytes]
    log: Path

    def roots(self) -> list[bytes]:
        """Every issuing root (primary first), from the management API, as PEM."""
        pems: list[bytes] = []
        index = 0
        while True:
            response = requests.get(
                f"{self.management_url}/roots/{index}", verify=str(self.ca_bundle_path), timeout=5
            )
            if response.status_code == 404:
                return pems
            response.raise_for_status()
            pems.append(response.content)
            index += 1

    def stop(self) -> None:
        _stop(self.process)


def start_pebble(
    *,
    pebble: str,
    directory: Path,
    dns_server: str,
    env: Mapping[str, str] | None = None,
    eab_mac_keys: Mapping[str, str] | None = None,
) -> Pebble:
    """Pebble with PEBBLE_ENV (overridden by `env`); EAB required when `eab_mac_keys`
    (key ID -> base64url HMAC key) is given."""
    directory.mkdir(parents=True, exist_ok=True)
    tls = make_tls(directory)
    acme_port, management_port, http_port, tls_port = (free_port() for _ in range(4))
    config = {
        "pebble": {
            "listenAddress": f"{LOOPBACK}:{acme_port}",
            "managementListenAddress": f"{LOOPBACK}:{management_port}",
            "certificate": str(tls.cert_path),
            "privateKey": str(tls.key_path),
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": bool(eab_mac_keys),
            "externalAccountMACKeys": dict(eab_mac_keys or {}),
        }
    }
    config_path = directory / "pebble-config.json"
    config_path.write_text(json.dumps(config, indent=2))
    log = directory / "pebble.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [pebble, "-config", str(config_path), "-dnsserver", dns_server],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env={**os.environ, **PEBBLE_ENV, **(env or {})},
        )
    server = Pebble(
        directory_url=f"https://{LOOPBACK}:{acme_port}/dir",
        management_url=f"https://{LOOPBACK}:{management_port}",
        http_port=http_port,
        ca_bundle_pem=tls.ca_pem,
        ca_bundle_path=tls.ca_path,
        process=process,
        log=log,
    )

    def directory_answers() -> bool:
        try:
            response = requests.get(server.directory_url, verify=str(tls.ca_path), timeout=1)
        except requests.RequestException:
            return False
        return response.status_code == 200 and "newOrder" in response.json()

    try:
        wait_until(directory_answers, what="pebble", process=process, log=log)
    except BaseException:
        server.stop()
        raise
    return server
