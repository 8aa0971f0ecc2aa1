"""A local stand-in for Let's Encrypt: Pebble, with pebble-challtestsrv as its DNS.

For the demo (and anyone trying ACME on a laptop): every name resolves to 127.0.0.1,
so Pebble's real HTTP-01 validation reaches `certainly local up`'s HTTP-01 responder
on Pebble's `httpPort`. Debian's pebble ships no TLS certificate, so one is made here.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from events.localapi.tls import issue_serving_pems

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def serving_certificate(directory: Path) -> tuple[bytes, Path, Path]:
    """(CA PEM, cert path, key path) for Pebble's HTTPS listeners on 127.0.0.1."""
    material = issue_serving_pems(LOOPBACK, ca_name="certainly local ACME TLS CA", days=7)
    cert_path, key_path = directory / "pebble-cert.pem", directory / "pebble-key.pem"
    cert_path.write_bytes(material.cert_pem)
    key_path.touch(mode=0o600)
    key_path.write_bytes(material.key_pem)
    return material.ca_pem, cert_path, key_path


@dataclass
class LocalACME:
    directory_url: str
    management_url: str
    http_port: int  # where Pebble sends HTTP-01 validations (point the responder here)
    ca_bundle_pem: bytes  # trust for Pebble's own HTTPS (an ACME issuer's caBundle)
    ca_bundle_path: Path
    processes: list[subprocess.Popen[bytes]]

    def roots(self) -> list[bytes]:
        """Pebble's issuing roots (it makes new ones every start), as PEM."""
        verify = str(self.ca_bundle_path)
        pems: list[bytes] = []
        index = 0
        while True:
            reply = requests.get(f"{self.management_url}/roots/{index}", verify=verify, timeout=5)
            if reply.status_code == 404:
                return pems
            reply.raise_for_status()
            pems.append(reply.content)
            index += 1

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def start(directory: Path, *, timeout: float = 30.0) -> LocalACME:
    """Start pebble-challtestsrv (DNS: every name is 127.0.0.1) and Pebble; wait until ready."""
    pebble, challtestsrv = shutil.which("pebble"), shutil.which("pebble-challtestsrv")
    if not pebble or not challtestsrv:
        raise RuntimeError("pebble is not installed (Debian package: pebble)")
    directory.mkdir(parents=True, exist_ok=True)
    ca_pem, cert_path, key_path = serving_certificate(directory)
    dns, management, acme, acme_management, http, tls = (free_port() for _ in range(6))
    log = (directory / "pebble.log").open("ab")
    dns_server = subprocess.Popen(
        [
            challtestsrv,
            "-dns01",
            f"{LOOPBACK}:{dns}",
            "-management",
            f"{LOOPBACK}:{management}",
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
            "-defaultIPv4",
            LOOPBACK,
            "-defaultIPv6",
            "",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    config = {
        "pebble": {
            "listenAddress": f"{LOOPBACK}:{acme}",
            "managementListenAddress": f"{LOOPBACK}:{acme_management}",
            "certificate": str(cert_path),
            "privateKey": str(key_path),
            "httpPort": http,
            "tlsPort": tls,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": False,
        }
    }
    (directory / "pebble-config.json").write_text(json.dumps(config))
    server = subprocess.Popen(
        [
            pebble,
            "-config",
            str(directory / "pebble-config.json"),
            "-dnsserver",
            f"{LOOPBACK}:{dns}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=directory,
        env={**os.environ, "PEBBLE_VA_NOSLEEP": "1"},
    )
    local = LocalACME(
        directory_url=f"https://{LOOPBACK}:{acme}/dir",
        management_url=f"https://{LOOPBACK}:{acme_management}",
        http_port=http,
        ca_bundle_pem=ca_pem,
        ca_bundle_path=directory / "pebble-ca.pem",
        processes=[server, dns_server],
    )
    local.ca_bundle_path.write_bytes(ca_pem)
    verify = str(local.ca_bundle_path)
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(local.directory_url, verify=verify, timeout=1).ok:
                return local
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or server.poll() is not None:
            local.stop()
            raise RuntimeError(f"Pebble did not come up; see {directory / 'pebble.log'}")
        time.sleep(0.1)
