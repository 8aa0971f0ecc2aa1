"""`make demo`: the internal-CA recipe on the embedded local API, end to end.

Starts `certainly local up`, applies the recipe with kubectl, waits for every
Certificate to be Ready, prints a table, verifies every chain with openssl, and
shuts down (or, with --keep, leaves it running and says how to reach it).
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from cryptography import x509

from events import localacme
from shared.kube.client import Kube
from shared.kube.errors import ApiError
from shared.kube.objects import get_condition, parse_time
from shared.kube.resources import CERTIFICATES, SECRETS

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "infra" / "examples" / "internal-ca.yaml"
ACME_RECIPE = REPO / "infra" / "examples" / "acme-ingress.yaml"


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        ["kubectl", f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise SystemExit(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def start_local_up(
    kubeconfig: Path, log_path: Path, *, http01_port: int
) -> subprocess.Popen[bytes]:
    if kubeconfig.exists():
        kubeconfig.unlink()
    certainly = shutil.which("certainly") or str(Path(sys.executable).with_name("certainly"))
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            certainly,
            "local",
            "up",
            "--kubeconfig",
            str(kubeconfig),
            "--tick-interval",
            "5",
            "--http01-solver-address",
            f"127.0.0.1:{http01_port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"certainly local up exited early; see {log_path}")
        if kubeconfig.exists():
            try:
                Kube.from_kubeconfig(kubeconfig).list(CERTIFICATES)
                return process
            except ApiError:
                pass
        time.sleep(0.1)
    raise SystemExit(f"certainly local up did not come up in 30 s; see {log_path}")


def verify_chain(secret: dict[str, Any]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        for key in ("ca.crt", "tls.crt"):
            Path(tmp, key).write_bytes(base64.b64decode(secret["data"][key]))
        result = subprocess.run(
            ["openssl", "verify", "-CAfile", f"{tmp}/ca.crt", f"{tmp}/tls.crt"],
            capture_output=True,
            text=True,
            check=False,
        )
    return "OK" if result.returncode == 0 else f"FAILED: {result.stderr.strip()}"


def report(kubeconfig: Path) -> bool:
    kube = Kube.from_kubeconfig(kubeconfig)
    certificates, _ = kube.list(CERTIFICATES)
    rows = [("NAMESPACE", "NAME", "READY", "NOT AFTER", "RENEWAL TIME", "ISSUER", "CHAIN")]
    healthy = True
    for cert in sorted(
        certificates, key=lambda c: (c["metadata"]["namespace"], c["metadata"]["name"])
    ):
        status, spec = cert.get("status") or {}, cert["spec"]
        ready = (get_condition(status, "Ready") or {}).get("status", "Unknown")
        secret = kube.get(SECRETS, cert["metadata"]["namespace"], spec["secretName"])
        chain = verify_chain(secret)
        healthy = healthy and ready == "True" and chain == "OK"
        issuer = f"{spec['issuerRef'].get('kind', 'Issuer')}/{spec['issuerRef']['name']}"
        not_after, renewal = (
            parse_time(status.get("notAfter")),
            parse_time(status.get("renewalTime")),
        )
        rows.append(
            (
                cert["metadata"]["namespace"],
                cert["metadata"]["name"],
                ready,
                f"{not_after:%Y-%m-%d %H:%M}" if not_after else "-",
                f"{renewal:%Y-%m-%d %H:%M}" if renewal else "-",
                issuer,
                chain,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
    kube.close()
    return healthy


def acme_ingress(kubeconfig: Path, acme: localacme.LocalACME) -> bool:
    """The Let's Encrypt recipe against Pebble: an annotated Ingress gets its certificate."""
    step("ACME: a ClusterIssuer for the local Pebble, and an Ingress annotated with it")
    manifest = ACME_RECIPE.read_text().replace("PEBBLE_DIRECTORY_URL", acme.directory_url)
    manifest = manifest.replace("PEBBLE_CA_BUNDLE", base64.b64encode(acme.ca_bundle_pem).decode())
    print(kubectl(kubeconfig, "apply", "-f", "-", stdin=manifest), end="")
    started = time.monotonic()
    kube = Kube.from_kubeconfig(kubeconfig)
    while kube.find(CERTIFICATES, "echo", "echo-tls") is None:  # the ingress shim makes it
        if time.monotonic() - started > 60:
            raise SystemExit("the ingress shim made no Certificate echo-tls within 60 s")
        time.sleep(0.1)
    print(
        kubectl(
            kubeconfig,
            "wait",
            "--for=condition=Ready",
            "--timeout=120s",
            "-n",
            "echo",
            "certificate/echo-tls",
        ),
        end="",
    )
    print(f"Ready {time.monotonic() - started:.1f} s after apply (HTTP-01 validated by Pebble)")
    print(
        kubectl(kubeconfig, "get", "certificate,certificaterequest,order,challenge", "-n", "echo"),
        end="",
    )
    secret = kube.get(SECRETS, "echo", "echo-tls")
    kube.close()
    chain = x509.load_pem_x509_certificates(base64.b64decode(secret["data"]["tls.crt"]))
    issuer = chain[0].issuer.rfc4514_string()
    print(f"echo-tls: {chain[0].subject.rfc4514_string()} issued by {issuer}")
    return "Pebble Intermediate" in issuer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="leave certainly local up running")
    parser.add_argument("--kubeconfig", type=Path, default=REPO / ".certainly" / "kubeconfig")
    args = parser.parse_args()
    kubeconfig: Path = args.kubeconfig
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    log_path = kubeconfig.parent / "local-up.log"

    step("starting a local ACME CA (Pebble) standing in for Let's Encrypt")
    acme = localacme.start(kubeconfig.parent / "pebble")
    print(f"Pebble directory {acme.directory_url}; HTTP-01 validations to port {acme.http_port}")
    step("starting certainly local up (embedded Kubernetes API + functions)")
    started = time.monotonic()
    process = start_local_up(kubeconfig, log_path, http01_port=acme.http_port)
    try:
        step(f"kubectl apply -f {RECIPE.relative_to(REPO)}")
        print(kubectl(kubeconfig, "apply", "-f", str(RECIPE)), end="")
        step("waiting for every Certificate to be Ready")
        print(
            kubectl(
                kubeconfig,
                "wait",
                "--for=condition=Ready",
                "--timeout=120s",
                "certificate",
                "--all",
                "-A",
            ),
            end="",
        )
        print(f"ready {time.monotonic() - started:.1f} s after start")
        step("kubectl get certificate -A")
        print(kubectl(kubeconfig, "get", "certificate", "-A"), end="")
        step("certificates, their renewal times, and openssl verify of each chain")
        healthy = report(kubeconfig)
        step("kubectl describe certificate -n production payments (events)")
        described = kubectl(kubeconfig, "describe", "certificate", "-n", "production", "payments")
        print(described[described.find("Events:") :], end="")
        healthy = acme_ingress(kubeconfig, acme) and healthy
        if args.keep:
            step(f"left running (pid {process.pid}); log: {log_path}")
            print(f"  export KUBECONFIG={kubeconfig}\n  kill {process.pid}  # to stop it")
            return 0 if healthy else 1
        return 0 if healthy else 1
    finally:
        if not args.keep:
            acme.stop()
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
            step("certainly local up stopped")


if __name__ == "__main__":
    sys.exit(main())
