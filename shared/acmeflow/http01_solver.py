"""HTTP-01 in a cluster: the solver Pod, Service and Ingress cert-manager creates per challenge.

The Pod runs cert-manager's acmesolver image, which answers the one token; the
Service fronts it; an Ingress (a new one of the solver's class, or a path added to an
existing Ingress named by `http01.ingress.name`) routes the CA's request to it. All
are named from the Challenge, so repeating `present` after a crash finds them, and
owned by it, so they go when it goes even if `cleanup` never ran.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from typing import Any, Final

from shared.acmeflow.names import fnv32a
from shared.kube.client import Kube
from shared.kube.errors import AlreadyExists, Conflict, NotFound
from shared.kube.objects import meta, owner_reference
from shared.kube.resources import INGRESSES, Resource

PODS: Final = Resource("", "v1", "pods", "Pod")
SERVICES: Final = Resource("", "v1", "services", "Service")

SOLVER_IMAGE_ENV: Final = "CERTAINLY_ACMESOLVER_IMAGE"
DEFAULT_SOLVER_IMAGE: Final = "quay.io/jetstack/cert-manager-acmesolver:v1.16.2"
SOLVER_PORT: Final = 8089
CHALLENGE_PATH: Final = "/.well-known/acme-challenge/"
SOLVER_LABEL: Final = "acme.cert-manager.io/http01-solver"
DOMAIN_LABEL: Final = "acme.cert-manager.io/http-domain"
TOKEN_LABEL: Final = "acme.cert-manager.io/http-token"  # noqa: S105 -- a label name

# podTemplate.spec fields a user may set (cert-manager's allow-list).
POD_TEMPLATE_FIELDS: Final = (
    "nodeSelector",
    "tolerations",
    "affinity",
    "priorityClassName",
    "serviceAccountName",
    "imagePullSecrets",
    "securityContext",
)

Obj = dict[str, Any]


def solver_name(challenge: Mapping[str, Any]) -> str:
    return f"cm-acme-http-solver-{fnv32a(str(meta(challenge)['name']).encode()):x}"


def labels(challenge: Mapping[str, Any]) -> dict[str, str]:
    spec = challenge.get("spec") or {}
    return {
        SOLVER_LABEL: "true",
        DOMAIN_LABEL: str(fnv32a(str(spec.get("dnsName")).encode())),
        TOKEN_LABEL: str(fnv32a(str(spec.get("token")).encode())),
    }


def ingress_spec(challenge: Mapping[str, Any]) -> Mapping[str, Any]:
    http01 = ((challenge.get("spec") or {}).get("solver") or {}).get("http01") or {}
    ingress = http01.get("ingress")
    return ingress if isinstance(ingress, Mapping) else {}


def pod(challenge: Mapping[str, Any]) -> Obj:
    spec = challenge.get("spec") or {}
    template = ingress_spec(challenge).get("podTemplate") or {}
    template_meta = template.get("metadata") or {}
    template_spec = template.get("spec") or {}
    body: Obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": solver_name(challenge),
            "namespace": meta(challenge)["namespace"],
            "labels": {**(template_meta.get("labels") or {}), **labels(challenge)},
            "annotations": {
                "sidecar.istio.io/inject": "false",
                "cluster-autoscaler.kubernetes.io/safe-to-evict": "true",
                **(template_meta.get("annotations") or {}),
            },
            "ownerReferences": [_owner(challenge)],
        },
        "spec": {
            "restartPolicy": "OnFailure",
            "nodeSelector": {"kubernetes.io/os": "linux"},
            "securityContext": {
                "runAsNonRoot": True,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [
                {
                    "name": "acmesolver",
                    "image": os.environ.get(SOLVER_IMAGE_ENV) or DEFAULT_SOLVER_IMAGE,
                    "imagePullPolicy": "IfNotPresent",
                    "args": [
                        f"--listen-port={SOLVER_PORT}",
                        f"--domain={spec.get('dnsName')}",
                        f"--token={spec.get('token')}",
                        f"--key={spec.get('key')}",
                    ],
                    "ports": [{"name": "http", "containerPort": SOLVER_PORT}],
                    "resources": {
                        "requests": {"cpu": "10m", "memory": "64Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                    "securityContext": {
                        "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        },
    }
    for key in POD_TEMPLATE_FIELDS:
        if key in template_spec:
            body["spec"][key] = template_spec[key]
    return body


def service(challenge: Mapping[str, Any]) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": solver_name(challenge),
            "namespace": meta(challenge)["namespace"],
            "labels": labels(challenge),
            "annotations": {"auth.istio.io/8089": "NONE"},
            "ownerReferences": [_owner(challenge)],
        },
        "spec": {
            "type": str(ingress_spec(challenge).get("serviceType") or "NodePort"),
            "ports": [
                {"name": "http", "port": SOLVER_PORT, "targetPort": SOLVER_PORT, "protocol": "TCP"}
            ],
            "selector": labels(challenge),
        },
    }


def path_rule(challenge: Mapping[str, Any]) -> Obj:
    return {
        "path": f"{CHALLENGE_PATH}{(challenge.get('spec') or {}).get('token')}",
        "pathType": "ImplementationSpecific",
        "backend": {"service": {"name": solver_name(challenge), "port": {"number": SOLVER_PORT}}},
    }


def ingress(challenge: Mapping[str, Any]) -> Obj:
    solver = ingress_spec(challenge)
    template = (solver.get("ingressTemplate") or {}).get("metadata") or {}
    annotations = dict(template.get("annotations") or {})
    spec: Obj = {
        "rules": [
            {
                "host": (challenge.get("spec") or {}).get("dnsName"),
                "http": {"paths": [path_rule(challenge)]},
            }
        ]
    }
    if solver.get("ingressClassName"):
        spec["ingressClassName"] = solver["ingressClassName"]
    elif solver.get("class"):
        annotations["kubernetes.io/ingress.class"] = str(solver["class"])
    return {
        "apiVersion": INGRESSES.api_version,
        "kind": "Ingress",
        "metadata": {
            "name": solver_name(challenge),
            "namespace": meta(challenge)["namespace"],
            "labels": {**(template.get("labels") or {}), **labels(challenge)},
            "annotations": annotations,
            "ownerReferences": [_owner(challenge)],
        },
        "spec": spec,
    }


def present(kube: Kube, challenge: Mapping[str, Any]) -> None:
    """Pod, Service and Ingress route in place; each step idempotent."""
    for resource, body in ((PODS, pod(challenge)), (SERVICES, service(challenge))):
        with contextlib.suppress(AlreadyExists):
            kube.create(resource, body)
    existing = ingress_spec(challenge).get("name")
    if existing:
        _edit_in_place(kube, challenge, str(existing), add=True)
    else:
        with contextlib.suppress(AlreadyExists):
            kube.create(INGRESSES, ingress(challenge))


def cleanup(kube: Kube, challenge: Mapping[str, Any]) -> None:
    namespace, name = meta(challenge)["namespace"], solver_name(challenge)
    existing = ingress_spec(challenge).get("name")
    if existing:
        _edit_in_place(kube, challenge, str(existing), add=False)
    else:
        with contextlib.suppress(NotFound):
            kube.delete(INGRESSES, namespace, name)
    for resource in (SERVICES, PODS):
        with contextlib.suppress(NotFound):
            kube.delete(resource, namespace, name)


def _edit_in_place(kube: Kube, challenge: Mapping[str, Any], name: str, *, add: bool) -> None:
    """Add (or remove) the challenge path on the user's Ingress, with RV preconditions."""
    namespace = meta(challenge)["namespace"]
    host = (challenge.get("spec") or {}).get("dnsName")
    wanted = path_rule(challenge)
    for _ in range(5):
        current = kube.find(INGRESSES, namespace, name)
        if current is None:
            if add:
                raise NotFound(404, "NotFound", f'ingresses.networking.k8s.io "{name}" not found')
            return
        spec = dict(current.get("spec") or {})
        rules = [dict(r) for r in spec.get("rules") or []]
        rule = next((r for r in rules if r.get("host") == host), None)
        if rule is None:
            if not add:
                return
            rule = {"host": host, "http": {"paths": []}}
            rules.append(rule)
        paths = [
            p for p in (rule.get("http") or {}).get("paths") or [] if p["path"] != wanted["path"]
        ]
        if add:
            paths.append(wanted)
        if paths == (rule.get("http") or {}).get("paths"):
            return
        rule["http"] = {"paths": paths}
        if not paths:
            rules.remove(rule)
        spec["rules"] = rules
        try:
            kube.replace(INGRESSES, {**current, "spec": spec})
        except Conflict:
            continue
        return


def _owner(challenge: Mapping[str, Any]) -> Obj:
    return owner_reference(
        {"apiVersion": "acme.cert-manager.io/v1", "kind": "Challenge", **challenge}
    )
