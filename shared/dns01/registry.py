"""DNS-01 providers by the key that names them in an ACME solver's `dns01` block.

A provider is one module plus one entry in PROVIDERS. Factories receive the
provider's own spec and a `read_secret` callable, so they never talk to
Kubernetes themselves and tests can pass a dict lookup. `provider_for` hands
them a ScopedCredentials (still a plain reader to a factory that only reads
secrets) carrying the scope's namespace and whether ambient credentials are
allowed: only for a ClusterIssuer, as in cert-manager.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, Final, cast

from shared.dns01.base import DNS01Provider
from shared.dns01.credentials import ScopedCredentials, SecretReader
from shared.dns01.errors import ProviderConfigError
from shared.dns01.rfc2136 import DEFAULT_TSIG_ALGORITHM, RFC2136Provider
from shared.issuers.base import IssuerScope
from shared.kube.objects import secret_bytes

__all__ = ["PROVIDERS", "ProviderFactory", "SecretReader", "provider_for", "provider_for_scope"]

ProviderFactory = Callable[[Mapping[str, Any], SecretReader], DNS01Provider]

# Keys of a cert-manager dns01 solver block that are options, not providers.
SOLVER_OPTIONS: Final = frozenset({"cnameStrategy"})


def _rfc2136(spec: Mapping[str, Any], read_secret: SecretReader) -> DNS01Provider:
    nameserver = spec.get("nameserver")
    if not isinstance(nameserver, str) or not nameserver:
        raise ProviderConfigError("rfc2136.nameserver is required")
    key_name = str(spec.get("tsigKeyName") or "")
    secret = ""
    if key_name:
        ref = spec.get("tsigSecretSecretRef")
        if not isinstance(ref, Mapping) or not ref.get("name") or not ref.get("key"):
            raise ProviderConfigError(
                "rfc2136.tsigSecretSecretRef (name and key) is required with tsigKeyName"
            )
        secret = read_secret(str(ref["name"]), str(ref["key"])).decode().strip()
    return RFC2136Provider(
        nameserver=nameserver,
        tsig_key_name=key_name,
        tsig_algorithm=str(spec.get("tsigAlgorithm") or DEFAULT_TSIG_ALGORITHM),
        tsig_secret=secret,
    )


def _lazy(module: str) -> ProviderFactory:
    """`shared.dns01.<module>.from_spec`, imported when a solver first names it, so a
    cold start does not pay for cloud SDKs (boto3, google-cloud-dns) it never uses."""

    def factory(spec: Mapping[str, Any], read_secret: SecretReader) -> DNS01Provider:
        loaded = importlib.import_module(f"shared.dns01.{module}")
        return cast(ProviderFactory, loaded.from_spec)(spec, read_secret)

    return factory


PROVIDERS: Final[Mapping[str, ProviderFactory]] = {
    "acmeDNS": _lazy("acmedns"),
    "cloudDNS": _lazy("clouddns"),
    "cloudflare": _lazy("cloudflare"),
    "rfc2136": _rfc2136,
    "route53": _lazy("route53"),
    "webhook": _lazy("webhook"),
}


def provider_for(
    dns01: Mapping[str, Any],
    *,
    read_secret: SecretReader,
    namespace: str = "",
    ambient_credentials: bool = False,
    providers: Mapping[str, ProviderFactory] = PROVIDERS,
) -> DNS01Provider:
    """The provider a solver's `dns01` block configures (exactly one provider key).

    `read_secret` reads from `namespace`, the issuer scope's namespace;
    `ambient_credentials` is True only for a ClusterIssuer.
    """
    named = [key for key in dns01 if key not in SOLVER_OPTIONS]
    if len(named) != 1:
        raise ProviderConfigError(
            f"dns01 must configure exactly one provider, found {sorted(named) or 'none'}"
        )
    (name,) = named
    factory = providers.get(name)
    if factory is None:
        raise ProviderConfigError(f"dns01 provider {name!r} is not supported")
    spec = dns01[name]
    if not isinstance(spec, Mapping):
        raise ProviderConfigError(f"dns01.{name} must be an object")
    scoped = ScopedCredentials(read=read_secret, namespace=namespace, ambient=ambient_credentials)
    return factory(spec, scoped)


def provider_for_scope(
    dns01: Mapping[str, Any],
    *,
    scope: IssuerScope,
    providers: Mapping[str, ProviderFactory] = PROVIDERS,
) -> DNS01Provider:
    """The provider for an issuer: Secrets from the scope's one namespace, ambient
    credentials only for a ClusterIssuer (cert-manager's default flags)."""

    def read_secret(name: str, key: str) -> bytes:
        value = secret_bytes(scope.secret(name), key)  # NotFound names the Secret
        if value is None:
            raise KeyError(key)  # reported as "secret 'name' key 'key' not found"
        return value

    return provider_for(
        dns01,
        read_secret=read_secret,
        namespace=scope.secrets_namespace,
        ambient_credentials=scope.issuer.get("kind") == "ClusterIssuer",
        providers=providers,
    )
