"""The ingress-shim: a Certificate per TLS secretName of an annotated Ingress.

As cert-manager's: an Ingress annotated `cert-manager.io/issuer` or
`cert-manager.io/cluster-issuer` (or `kubernetes.io/tls-acme: "true"` with a default
issuer configured) gets, for each `spec.tls` entry, a Certificate named after the
entry's secretName, for its hosts, owned by the Ingress. Changing the Ingress updates
them; a TLS entry removed deletes its Certificate. Certificates the Ingress does not
own are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from shared.kube.errors import AlreadyExists, Conflict, NotFound
from shared.kube.objects import annotations_of, labels_of, meta, name_of, owner_reference
from shared.kube.recorder import NORMAL, WARNING
from shared.kube.resources import CERTIFICATES, INGRESSES
from shared.runtime import Context

ISSUER: Final = "cert-manager.io/issuer"
CLUSTER_ISSUER: Final = "cert-manager.io/cluster-issuer"
ISSUER_KIND: Final = "cert-manager.io/issuer-kind"
ISSUER_GROUP: Final = "cert-manager.io/issuer-group"
TLS_ACME: Final = "kubernetes.io/tls-acme"
GROUP: Final = "cert-manager.io"

# cert-manager's --default-issuer-* flags, used for `kubernetes.io/tls-acme: "true"`.
DEFAULT_ISSUER_ENV: Final = ("CERTAINLY_DEFAULT_ISSUER_NAME", "CERTAINLY_DEFAULT_ISSUER_KIND")

# annotation -> (Certificate spec path, parser)
_LIST: Final = "list"
_INT: Final = "int"
_TEXT: Final = "text"
SPEC_ANNOTATIONS: Final[dict[str, tuple[tuple[str, ...], str]]] = {
    "cert-manager.io/common-name": (("commonName",), _TEXT),
    "cert-manager.io/email-sans": (("emailAddresses",), _LIST),
    "cert-manager.io/subject-organizations": (("subject", "organizations"), _LIST),
    "cert-manager.io/duration": (("duration",), _TEXT),
    "cert-manager.io/renew-before": (("renewBefore",), _TEXT),
    "cert-manager.io/usages": (("usages",), _LIST),
    "cert-manager.io/revision-history-limit": (("revisionHistoryLimit",), _INT),
    "cert-manager.io/private-key-algorithm": (("privateKey", "algorithm"), _TEXT),
    "cert-manager.io/private-key-encoding": (("privateKey", "encoding"), _TEXT),
    "cert-manager.io/private-key-size": (("privateKey", "size"), _INT),
    "cert-manager.io/private-key-rotation-policy": (("privateKey", "rotationPolicy"), _TEXT),
}

# The Certificate spec fields the shim owns; anything else a user set is left alone.
MANAGED_KEYS: Final = frozenset(
    {"secretName", "dnsNames", "issuerRef"} | {path[0] for path, _ in SPEC_ANNOTATIONS.values()}
)

Obj = dict[str, Any]


class BadConfig(ValueError):
    """The Ingress's annotations cannot become a Certificate; the message says why."""


@dataclass(frozen=True)
class IssuerRef:
    name: str
    kind: str
    group: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "kind": self.kind, "group": self.group}


def issuer_ref_of(annotations: Mapping[str, str]) -> IssuerRef | None:
    """The issuer an Ingress asks for, None if it asks for none; BadConfig if contradictory."""
    issuer, cluster_issuer = annotations.get(ISSUER), annotations.get(CLUSTER_ISSUER)
    if issuer and cluster_issuer:
        raise BadConfig(f"both {ISSUER} and {CLUSTER_ISSUER} are set; choose one")
    group = annotations.get(ISSUER_GROUP) or GROUP
    if cluster_issuer:
        return IssuerRef(cluster_issuer, "ClusterIssuer", group)
    if issuer:
        return IssuerRef(issuer, annotations.get(ISSUER_KIND) or "Issuer", group)
    if annotations.get(TLS_ACME) == "true":
        name = os.environ.get(DEFAULT_ISSUER_ENV[0])
        if not name:
            raise BadConfig(f'{TLS_ACME}: "true" needs a default issuer, and none is configured')
        return IssuerRef(name, os.environ.get(DEFAULT_ISSUER_ENV[1]) or "Issuer", GROUP)
    return None


def desired_certificates(ingress: Mapping[str, Any], ref: IssuerRef) -> list[Obj]:
    """The Certificates an Ingress asks for (pure: no API)."""
    annotations = annotations_of(ingress)
    extra: Obj = {}
    for annotation, (path, kind) in SPEC_ANNOTATIONS.items():
        raw = annotations.get(annotation)
        if raw is None:
            continue
        value: Any = raw
        if kind == _LIST:
            value = [item.strip() for item in raw.split(",") if item.strip()]
        elif kind == _INT:
            try:
                value = int(raw)
            except ValueError:
                raise BadConfig(f"{annotation}: {raw!r} is not an integer") from None
        target = extra
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    certificates: dict[str, Obj] = {}
    for tls in (ingress.get("spec") or {}).get("tls") or []:
        secret_name = tls.get("secretName")
        hosts = [str(h) for h in tls.get("hosts") or []]
        if not secret_name:
            raise BadConfig("a TLS entry has no secretName")
        if not hosts:
            raise BadConfig(f"TLS entry for secret {secret_name!r} has no hosts")
        if secret_name in certificates:
            # Two entries, one Secret: one Certificate for all their hosts.
            names = certificates[secret_name]["spec"]["dnsNames"]
            names.extend(h for h in hosts if h not in names)
            continue
        certificates[secret_name] = {
            "apiVersion": CERTIFICATES.api_version,
            "kind": "Certificate",
            "metadata": {
                "name": secret_name,
                "namespace": meta(ingress).get("namespace"),
                "labels": dict(meta(ingress).get("labels") or {}),
                "ownerReferences": [
                    owner_reference(
                        {"apiVersion": INGRESSES.api_version, "kind": "Ingress", **ingress}
                    )
                ],
            },
            "spec": {
                "secretName": secret_name,
                "dnsNames": hosts,
                "issuerRef": ref.as_dict(),
                **extra,
            },
        }
    return list(certificates.values())


def reconcile_ingress(ctx: Context, *, namespace: str, name: str) -> str:
    ingress = ctx.kube.find(INGRESSES, namespace, name)
    if ingress is None or meta(ingress).get("deletionTimestamp"):
        return "ingress gone"
    ingress.setdefault("apiVersion", INGRESSES.api_version)
    ingress.setdefault("kind", "Ingress")
    try:
        ref = issuer_ref_of(annotations_of(ingress))
        if ref is None:
            return "ignored: no issuer annotation"
        desired = desired_certificates(ingress, ref)
    except BadConfig as error:
        ctx.recorder.record(ingress, type=WARNING, reason="BadConfig", message=str(error))
        return f"bad config: {error}"
    done: list[str] = []
    for certificate in desired:
        done.append(_apply(ctx, ingress, certificate))
    wanted = {c["metadata"]["name"] for c in desired}
    existing, _ = ctx.kube.list(CERTIFICATES, namespace)
    uid = meta(ingress).get("uid")
    for certificate in existing:
        owners = meta(certificate).get("ownerReferences") or []
        if meta(certificate)["name"] in wanted or not any(o.get("uid") == uid for o in owners):
            continue
        try:
            ctx.kube.delete(
                CERTIFICATES, namespace, meta(certificate)["name"], uid=meta(certificate)["uid"]
            )
        except (NotFound, Conflict):
            continue
        ctx.recorder.record(
            ingress,
            type=NORMAL,
            reason="DeleteCertificate",
            message=f'Successfully deleted unrequired Certificate "{meta(certificate)["name"]}"',
        )
        done.append(f"deleted {meta(certificate)['name']}")
    return "; ".join(done) or "nothing to do"


def in_step(ingress: Mapping[str, Any], certificates: Iterable[Mapping[str, Any]]) -> bool:
    """Whether `reconcile_ingress` would change nothing (pure: the listed objects only).

    An Ingress the shim cannot act on (no issuer annotation, a bad one, a Certificate
    of that name owned by someone else) counts as in step: the shim reports those on
    the Ingress's own events, and repeating a Warning every tick would be a write.
    """
    if meta(ingress).get("deletionTimestamp"):
        return True
    try:
        ref = issuer_ref_of(annotations_of(ingress))
        if ref is None:
            return True
        desired = desired_certificates(
            {"apiVersion": INGRESSES.api_version, "kind": "Ingress", **ingress}, ref
        )
    except BadConfig:
        return True
    uid = meta(ingress).get("uid")
    owned = {
        name_of(c): c
        for c in certificates
        if any(o.get("uid") == uid for o in meta(c).get("ownerReferences") or [])
    }
    others = {name_of(c) for c in certificates} - owned.keys()
    wanted = {name_of(d) for d in desired}
    if owned.keys() - wanted:
        return False  # a TLS entry was removed: its Certificate goes
    for certificate in desired:
        name = name_of(certificate)
        if name in others:
            continue
        current = owned.get(name)
        if current is None:
            return False
        spec = current.get("spec") or {}
        if not _spec_matches(spec, certificate["spec"]):
            return False
        labels = labels_of(current)
        if any(labels.get(k) != v for k, v in labels_of(certificate).items()):
            return False
    return True


def _apply(ctx: Context, ingress: Obj, desired: Obj) -> str:
    namespace, name = meta(desired)["namespace"], meta(desired)["name"]
    for _ in range(5):
        current = ctx.kube.find(CERTIFICATES, namespace, name)
        if current is None:
            try:
                ctx.kube.create(CERTIFICATES, desired)
            except AlreadyExists:
                continue
            ctx.recorder.record(
                ingress,
                type=NORMAL,
                reason="CreateCertificate",
                message=f'Successfully created Certificate "{name}"',
            )
            return f"created {name}"
        uid = meta(ingress).get("uid")
        if not any(o.get("uid") == uid for o in meta(current).get("ownerReferences") or []):
            ctx.recorder.record(
                ingress,
                type=WARNING,
                reason="BadConfig",
                message=f'Certificate "{name}" exists and is not owned by this Ingress; not changing it',
            )
            return f"skipped {name}: not ours"
        merged_meta = {
            **meta(current),
            "labels": {**(meta(current).get("labels") or {}), **meta(desired)["labels"]},
        }
        if _spec_matches(current.get("spec") or {}, desired["spec"]) and merged_meta == meta(
            current
        ):
            return f"{name} up to date"
        try:
            spec = {
                **{k: v for k, v in (current.get("spec") or {}).items() if k not in MANAGED_KEYS},
                **desired["spec"],
            }
            ctx.kube.replace(CERTIFICATES, {**current, "metadata": merged_meta, "spec": spec})
        except Conflict:
            continue
        ctx.recorder.record(
            ingress,
            type=NORMAL,
            reason="UpdateCertificate",
            message=f'Successfully updated Certificate "{name}"',
        )
        return f"updated {name}"
    return f"{name} kept changing"


def _spec_matches(current: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    return all(current.get(key) == desired.get(key) for key in MANAGED_KEYS)
