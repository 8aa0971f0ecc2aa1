"""No private key travels in an event: `certainly watch` sends Secrets without their data.

A real CA issuance by `certainly run` (watcher and functions in-process); beside it a
second watcher, the same class `certainly watch` runs, records every CloudEvent it
emits for the same objects, encoded as it is sent (binary and structured mode). Every
recorded body and header is then searched for key material.
"""

from __future__ import annotations

import base64
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudevents.conversion import to_binary, to_structured
from cloudevents.http import CloudEvent

from events.localapi.server import LocalAPI
from events.routes import WATCHED
from events.runner import Runner, RunOptions
from events.watcher import Watcher
from shared.kube.client import Kube
from shared.kube.objects import condition_is
from shared.kube.resources import CERTIFICATES, ISSUERS, NAMESPACES, SECRETS
from tests.helpers import eventually, throwaway_ca

pytestmark = pytest.mark.integration


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[Path]:
    api = LocalAPI()  # fresh: the watchers see only this test's objects
    api.start()
    path = tmp_path / "kubeconfig"
    api.write_kubeconfig(path)
    try:
        yield path
    finally:
        api.stop()


def _encodings(event: CloudEvent) -> list[bytes]:
    """The event as an HTTP request would carry it, in both content modes."""
    binary_headers, binary_body = to_binary(event)
    structured_headers, structured_body = to_structured(event)
    return [
        binary_body,
        repr(binary_headers).encode(),
        structured_body,
        repr(structured_headers).encode(),
    ]


def _key_material(sent: bytes, keys: list[bytes]) -> list[str]:
    found = [marker.decode() for marker in (b"PRIVATE KEY", b"tls.key") if marker in sent]
    return found + [f"a private key ({len(k)} bytes)" for k in keys if k in sent]


def test_no_event_the_watcher_emits_during_a_ca_issuance_carries_key_material(
    kubeconfig: Path,
) -> None:
    kube = Kube.from_kubeconfig(kubeconfig, user_agent="certainly/tests")
    emitted: list[CloudEvent] = []
    stop = threading.Event()
    recorder = Watcher(kube, watched=WATCHED, emit=emitted.append, source="https://api", stop=stop)
    runner = Runner(RunOptions(kubeconfig=kubeconfig))
    namespace = f"keys-{uuid.uuid4().hex[:6]}"
    ca_pem, ca_key = throwaway_ca("events CA")
    recorder.start()
    runner.start()
    try:
        kube.create(
            NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
        )
        kube.create(
            SECRETS,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/tls",
                # Labelled as a managed Secret, so the watchers see the CA's key too.
                "metadata": {
                    "name": "ca",
                    "namespace": namespace,
                    "labels": {"controller.cert-manager.io/fao": "true"},
                },
                "data": {
                    "tls.crt": base64.b64encode(ca_pem).decode(),
                    "tls.key": base64.b64encode(ca_key).decode(),
                },
            },
        )
        kube.create(
            ISSUERS,
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Issuer",
                "metadata": {"name": "ca", "namespace": namespace},
                "spec": {"ca": {"secretName": "ca"}},
            },
        )
        kube.create(
            CERTIFICATES,
            {
                "apiVersion": "cert-manager.io/v1",
                "kind": "Certificate",
                "metadata": {"name": "web", "namespace": namespace},
                "spec": {
                    "secretName": "web-tls",
                    "dnsNames": ["web.example.com"],
                    "issuerRef": {"name": "ca", "kind": "Issuer"},
                },
            },
        )

        def ready() -> bool:
            cert = kube.get(CERTIFICATES, namespace, "web")
            return condition_is(cert.get("status") or {}, "Ready")

        eventually(ready, timeout=60, what="the Certificate Ready")
        issued = kube.get(SECRETS, namespace, "web-tls")

        def secret_events() -> set[str]:
            return {str(e["name"]) for e in emitted if e["kind"] == "Secret"}

        eventually(lambda: {"ca", "web-tls"} <= secret_events(), what="both Secrets' events")
    finally:
        stop.set()
        runner.close()
        kube.close()
        recorder.join(timeout=10)
    # The private keys, as PEM and as the Secret holds them (certificates are public:
    # the CertificateRequest's status carries them, as in cert-manager).
    issued_key = issued["data"]["tls.key"]
    values = [base64.b64decode(issued_key), issued_key.encode(), ca_key, base64.b64encode(ca_key)]
    leaks = {
        f"{e['type']} {e['kind']}/{e['name']}": found
        for e in emitted
        for sent in _encodings(e)
        if (found := _key_material(sent, values))
    }
    assert leaks == {}, leaks
