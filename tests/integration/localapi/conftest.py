"""Fixtures for the local API's own tests: a LocalAPI per module, kubectl and clients."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from events.localapi.server import LocalAPI
from tests.conftest import require_binary

T = TypeVar("T")


def eventually(
    probe: Callable[[], T | None], *, timeout: float = 10.0, what: str = "condition"
) -> T:
    """Poll probe until it returns something truthy, or fail after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Kubectl:
    binary: str
    kubeconfig: Path
    cache_dir: Path

    def argv(self, *args: str) -> list[str]:
        return [
            self.binary,
            f"--kubeconfig={self.kubeconfig}",
            f"--cache-dir={self.cache_dir}",
            *args,
        ]

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "KUBECONFIG": str(self.kubeconfig)},
        )
        if check and result.returncode != 0:
            pytest.fail(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "-o", "json").stdout)


@dataclass
class Local:
    """A LocalAPI with everything a test talks to it through."""

    api: LocalAPI
    kubeconfig: Path
    kubectl: Kubectl
    http: requests.Session  # plain http with the bearer token

    def url(self, path: str) -> str:
        return self.api.url + path

    def client(self) -> k8s.ApiClient:
        return k8s_config.new_client_from_config(config_file=str(self.kubeconfig))


def start_local(directory: Path, **options: Any) -> Iterator[Local]:
    api = LocalAPI(**options)
    api.start()
    kubeconfig = directory / "kubeconfig"
    api.write_kubeconfig(kubeconfig)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api.token}"
    kubectl = Kubectl(require_binary("kubectl"), kubeconfig, directory / "kube-cache")
    try:
        yield Local(api=api, kubeconfig=kubeconfig, kubectl=kubectl, http=session)
    finally:
        session.close()
        api.stop()


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    yield from start_local(tmp_path_factory.mktemp("localapi"))


@pytest.fixture(scope="module")
def core(local: Local) -> Iterator[k8s.CoreV1Api]:
    api_client = local.client()
    yield k8s.CoreV1Api(api_client)
    api_client.close()


@pytest.fixture(scope="module")
def custom(local: Local) -> Iterator[k8s.CustomObjectsApi]:
    api_client = local.client()
    yield k8s.CustomObjectsApi(api_client)
    api_client.close()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def namespace(local: Local) -> str:
    """A fresh namespace per test, so tests never see each other's objects."""
    name = f"t{next(_counter)}-{os.getpid() % 1000}"
    response = local.http.post(
        local.url("/api/v1/namespaces"), json={"metadata": {"name": name}}, timeout=10
    )
    assert response.status_code == 201, response.text
    return name


def certificate(name: str, namespace: str, **spec: Any) -> dict[str, Any]:
    """A Certificate like cert-manager's docs example (usage page), with overrides."""
    body: dict[str, Any] = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "secretName": f"{name}-tls",
            "duration": "2160h",
            "renewBefore": "360h",
            "subject": {"organizations": ["jetstack"]},
            "isCA": False,
            "privateKey": {"algorithm": "RSA", "encoding": "PKCS1", "size": 2048},
            "usages": ["server auth", "client auth"],
            "dnsNames": ["example.com", "www.example.com"],
            "issuerRef": {"name": "ca-issuer", "kind": "Issuer", "group": "cert-manager.io"},
        },
    }
    body["spec"].update(spec)
    return body


CERTS = "/apis/cert-manager.io/v1/namespaces/{ns}/certificates"
