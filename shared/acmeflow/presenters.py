"""Presenting a challenge's response where the CA looks, checking it, and withdrawing it.

HTTP-01 locally: the responder (events/http01.py) serves `spec.key` from the
Challenge objects themselves, so presenting is recording `presented: true`, and
the self-check asks the responder, with the domain as Host, what the CA will ask.
HTTP-01 in a cluster: solver Pod, Service and Ingress (http01_solver.py).
DNS-01: the solver's provider (shared/dns01/registry) writes one TXT value into
the zone found through the recursive nameservers; the self-check asks those, then
each of the zone's authoritative nameservers (unless configured recursive-only).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import dns.resolver
import requests

from shared.acmeflow import http01_solver
from shared.dns01 import resolver
from shared.dns01.base import DNS01Provider, DomainAware, challenge_record_name
from shared.dns01.errors import DNS01Error
from shared.dns01.registry import provider_for_scope
from shared.issuers.base import IssuerScope
from shared.kube.errors import NotFound
from shared.runtime import Context

CHALLENGE_PATH: Final = "/.well-known/acme-challenge/"
SELF_CHECK_TIMEOUT: Final = 2.0

# Where the zone's authoritative nameservers answer, as cert-manager asks them (port 53).
# Replaced by tests whose authoritative server listens elsewhere; read at call time.
authoritative_port = resolver.DEFAULT_PORT


class PresentError(Exception):
    """The response could not be put in place; the message says why (no secrets)."""


@dataclass(frozen=True)
class DNSTarget:
    fqdn: str
    zone: str


def present(ctx: Context, scope: IssuerScope, challenge: Mapping[str, Any]) -> None:
    spec = challenge.get("spec") or {}
    if spec.get("type") == "DNS-01":
        target = dns_target(ctx, spec)
        try:
            _provider(scope, spec).present(fqdn=target.fqdn, zone=target.zone, value=spec["key"])
        except DNS01Error as error:
            raise PresentError(str(error)) from None
        return
    if ctx.config.http01_solver_address:
        return  # the local responder serves spec.key from the Challenge itself
    try:
        http01_solver.present(ctx.kube, challenge)
    except NotFound as error:
        raise PresentError(error.message) from None


def cleanup(ctx: Context, scope: IssuerScope, challenge: Mapping[str, Any]) -> None:
    spec = challenge.get("spec") or {}
    if spec.get("type") != "DNS-01":
        if not ctx.config.http01_solver_address:
            http01_solver.cleanup(ctx.kube, challenge)
        return  # the local responder stops serving once the Challenge is final or gone
    target = dns_target(ctx, spec)
    try:
        _provider(scope, spec).cleanup(fqdn=target.fqdn, zone=target.zone, value=spec["key"])
    except DNS01Error as error:
        raise PresentError(str(error)) from None


def self_check(ctx: Context, challenge: Mapping[str, Any]) -> str | None:
    """None when the CA would see the response now; else what is missing."""
    spec = challenge.get("spec") or {}
    if spec.get("type") == "DNS-01":
        target = dns_target(ctx, spec)
        try:
            # As cert-manager: the recursive nameservers, then every authoritative one
            # unless --dns01-recursive-nameservers-only.
            seen = resolver.propagated(
                target.fqdn,
                str(spec["key"]),
                nameservers=nameservers(ctx),
                authoritative=not ctx.config.dns01_recursive_nameservers_only,
                authoritative_port=authoritative_port,
            )
        except DNS01Error as error:
            return f"DNS record for {spec.get('dnsName')!r} not yet propagated: {error}"
        return None if seen else f"DNS record for {spec.get('dnsName')!r} not yet propagated"
    # Locally ask the responder (as the CA's request would reach it); in a cluster, the
    # domain itself, through the ingress controller.
    address = ctx.config.http01_solver_address or str(spec.get("dnsName"))
    url = f"http://{address}{CHALLENGE_PATH}{spec.get('token')}"
    try:
        response = requests.get(
            url, headers={"Host": str(spec.get("dnsName"))}, timeout=SELF_CHECK_TIMEOUT
        )
    except requests.RequestException as error:
        return f"Did not get expected response when querying endpoint: {type(error).__name__}"
    if response.status_code != 200 or response.text.strip() != spec.get("key"):
        return f"Did not get expected response when querying endpoint, got {response.status_code}"
    return None


def dns_target(ctx: Context, spec: Mapping[str, Any]) -> DNSTarget:
    servers = nameservers(ctx)
    fqdn = challenge_record_name(str(spec.get("dnsName")))
    dns01 = (spec.get("solver") or {}).get("dns01") or {}
    try:
        if dns01.get("cnameStrategy") == "Follow":
            fqdn = resolver.follow_cname(fqdn, nameservers=servers)
        zone = resolver.find_zone(fqdn, nameservers=servers)
    except DNS01Error as error:
        raise PresentError(str(error)) from None
    return DNSTarget(fqdn=fqdn, zone=zone)


def nameservers(ctx: Context) -> list[resolver.Nameserver]:
    configured = ctx.config.dns01_recursive_nameservers
    if configured:
        return resolver.parse_nameservers(configured)
    return [
        (str(address), resolver.DEFAULT_PORT) for address in dns.resolver.Resolver().nameservers
    ]


def _provider(scope: IssuerScope, spec: Mapping[str, Any]) -> DNS01Provider:
    dns01 = (spec.get("solver") or {}).get("dns01") or {}
    try:
        provider = provider_for_scope(dns01, scope=scope)
        if isinstance(provider, DomainAware):
            # The domain being validated, not the (possibly CNAME-followed) record name.
            return provider.for_domain(str(spec.get("dnsName") or ""))
        return provider
    except NotFound as error:
        raise PresentError(error.message) from None
    except KeyError as error:
        raise PresentError(f"secret key {error} not found") from None
