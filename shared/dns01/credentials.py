"""What a DNS-01 provider may authenticate with, and reading secret references safely.

An issuer's providers read Secrets only from the issuer's scope (its own
namespace for an Issuer, the cluster-resource namespace for a ClusterIssuer)
and use the process's ambient identity (instance role, workload identity...)
only when the issuer is a ClusterIssuer, as cert-manager does by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.dns01.errors import ProviderConfigError
from shared.kube.errors import ApiError, NotFound

# (secret name, key) -> the secret's bytes; the caller scopes it to the right namespace.
SecretReader = Callable[[str, str], bytes]


@dataclass(frozen=True)
class ScopedCredentials:
    """A SecretReader that also says which namespace it reads and whether ambient identity
    is allowed; the registry passes one to every factory (a plain reader still works)."""

    read: SecretReader
    namespace: str = ""
    ambient: bool = False

    def __call__(self, name: str, key: str, /) -> bytes:
        return self.read(name, key)


def ambient_allowed(read_secret: SecretReader) -> bool:
    """Whether the issuer behind `read_secret` may use ambient credentials (never by default)."""
    return isinstance(read_secret, ScopedCredentials) and read_secret.ambient


def scope_namespace(read_secret: SecretReader) -> str:
    return read_secret.namespace if isinstance(read_secret, ScopedCredentials) else ""


def secret_ref(spec: Mapping[str, Any], field: str, *, provider: str) -> tuple[str, str] | None:
    """`spec[field]` as (name, key), None when absent; a half-filled reference is an error."""
    ref = spec.get(field)
    if ref is None:
        return None
    if not isinstance(ref, Mapping) or not ref.get("name") or not ref.get("key"):
        raise ProviderConfigError(f"{provider}.{field} needs both name and key")
    return str(ref["name"]), str(ref["key"])


def read_text(read_secret: SecretReader, ref: tuple[str, str], *, provider: str, field: str) -> str:
    """The referenced Secret value as stripped text; missing or unreadable says which ref."""
    name, key = ref
    where = f"{provider}.{field}: secret {name!r} key {key!r}"
    try:
        raw = read_secret(name, key)
    except (LookupError, NotFound):
        raise ProviderConfigError(f"{where} not found") from None
    except ApiError as error:
        raise ProviderConfigError(f"{where} could not be read ({error.reason})") from None
    try:
        text = raw.decode().strip()
    except UnicodeDecodeError:
        raise ProviderConfigError(f"{where} is not UTF-8 text") from None
    if not text:
        raise ProviderConfigError(f"{where} is empty")
    return text


def optional_str(spec: Mapping[str, Any], field: str, *, provider: str) -> str:
    value = spec.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProviderConfigError(f"{provider}.{field} must be a string")
    return value.strip()


def required_str(spec: Mapping[str, Any], field: str, *, provider: str) -> str:
    value = optional_str(spec, field, provider=provider)
    if not value:
        raise ProviderConfigError(f"{provider}.{field} is required")
    return value
