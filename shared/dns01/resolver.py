"""DNS lookups for DNS-01: zone discovery, CNAME following and the propagation self-check.

Mirrors cert-manager's behaviour: the zone is the closest enclosing name with
an SOA in the answer (names that are CNAMEs are skipped, as a CNAME cannot sit
at a zone apex); the self-check first asks the configured recursive
nameservers, then, unless told otherwise, every authoritative nameserver of the
zone, so the CA will see the value whichever server it asks.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rrset

from shared.dns01.base import challenge_record_name
from shared.dns01.errors import DNSLookupError

Nameserver = tuple[str, int]

DEFAULT_PORT: Final = 53
QUERY_TIMEOUT_SECONDS: Final = 2.0
MAX_CNAME_HOPS: Final = 10


def parse_nameserver(value: str, *, default_port: int = DEFAULT_PORT) -> Nameserver:
    """ "host", "host:port", "[v6]:port" or a bare IPv6 address -> (host, port)."""
    text = value.strip()
    if not text:
        raise ValueError("empty nameserver")
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        separator, port = rest[:1], rest[1:]
    elif text.count(":") > 1:  # a bare IPv6 address has no port
        host, separator, port = text, "", ""
    else:
        host, separator, port = text.partition(":")
    if not host:
        raise ValueError(f"nameserver {value!r} has no host")
    if not separator:
        return host, default_port
    if separator != ":":
        raise ValueError(f"nameserver {value!r} is not HOST:PORT")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"nameserver {value!r} has an invalid port")
    return host, int(port)


def parse_nameservers(values: Iterable[str]) -> list[Nameserver]:
    return [parse_nameserver(v) for v in values]


def find_zone(fqdn: str, *, nameservers: Sequence[Nameserver]) -> str:
    """The absolute name of the zone that holds `fqdn` (e.g. "example.com.")."""
    name = _absolute(fqdn)
    while name != dns.name.root:
        response = _query(name, dns.rdatatype.SOA, nameservers=nameservers)
        rcode = response.rcode()
        if rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
            raise DNSLookupError(f"{dns.rcode.to_text(rcode)} looking up the SOA of {name}")
        if rcode == dns.rcode.NOERROR and not _has(response, dns.rdatatype.CNAME):
            for rrset in response.answer:
                if rrset.rdtype == dns.rdatatype.SOA:
                    return rrset.name.to_text()
        name = name.parent()
    raise DNSLookupError(f"no zone (SOA) found for {fqdn}")


def follow_cname(fqdn: str, *, nameservers: Sequence[Nameserver]) -> str:
    """Where `fqdn` points after following CNAMEs (itself if it is no CNAME)."""
    name = _absolute(fqdn)
    seen = {name}
    for _ in range(MAX_CNAME_HOPS):
        response = _query(name, dns.rdatatype.CNAME, nameservers=nameservers)
        target = next(
            (
                rrset[0].target
                for rrset in response.answer
                if rrset.rdtype == dns.rdatatype.CNAME and rrset.name == name
            ),
            None,
        )
        if target is None:
            return name.to_text()
        if target in seen:
            raise DNSLookupError(f"CNAME loop at {target}")
        seen.add(target)
        name = target
    raise DNSLookupError(f"more than {MAX_CNAME_HOPS} CNAMEs from {fqdn}")


@dataclass(frozen=True)
class ChallengeRecord:
    fqdn: str  # absolute name to write the TXT value at
    zone: str  # absolute name of the zone that holds it


def challenge_record(
    domain: str, *, cname_strategy: str = "None", nameservers: Sequence[Nameserver]
) -> ChallengeRecord:
    """Where the TXT value for `domain` goes: "_acme-challenge.<domain>." or, with
    cert-manager's cnameStrategy "Follow", wherever that name's CNAMEs lead."""
    fqdn = challenge_record_name(domain)
    if cname_strategy == "Follow":
        fqdn = follow_cname(fqdn, nameservers=nameservers)
    elif cname_strategy not in ("", "None"):
        raise ValueError(f"cnameStrategy {cname_strategy!r} is not None or Follow")
    return ChallengeRecord(fqdn=fqdn, zone=find_zone(fqdn, nameservers=nameservers))


def txt_values(fqdn: str, *, nameservers: Sequence[Nameserver], recursion: bool = True) -> set[str]:
    response = _query(
        _absolute(fqdn), dns.rdatatype.TXT, nameservers=nameservers, recursion=recursion
    )
    if response.rcode() not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        raise DNSLookupError(f"{dns.rcode.to_text(response.rcode())} looking up TXT {fqdn}")
    return {
        b"".join(rdata.strings).decode()
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.TXT
        for rdata in rrset
    }


def propagated(
    fqdn: str,
    value: str,
    *,
    nameservers: Sequence[Nameserver],
    authoritative: bool = True,
    authoritative_port: int = DEFAULT_PORT,
) -> bool:
    """Whether `value` is visible at `fqdn` (after CNAMEs) to the CA.

    With `authoritative`, each of the zone's NS hosts (resolved through
    `nameservers`, queried on `authoritative_port`) must serve the value;
    otherwise the recursive `nameservers` answering is enough.
    """
    target = follow_cname(fqdn, nameservers=nameservers)
    if value not in txt_values(target, nameservers=nameservers):
        return False
    if not authoritative:
        return True
    for server in authoritative_nameservers(
        target, nameservers=nameservers, port=authoritative_port
    ):
        if value not in txt_values(target, nameservers=[server], recursion=False):
            return False
    return True


def authoritative_nameservers(
    fqdn: str, *, nameservers: Sequence[Nameserver], port: int = DEFAULT_PORT
) -> list[Nameserver]:
    zone = find_zone(fqdn, nameservers=nameservers)
    response = _query(dns.name.from_text(zone), dns.rdatatype.NS, nameservers=nameservers)
    hosts = [
        rdata.target
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.NS
        for rdata in rrset
    ]
    if not hosts:
        raise DNSLookupError(f"no NS records for zone {zone}")
    servers: list[Nameserver] = []
    for host in hosts:
        addresses = _addresses(host, nameservers=nameservers)
        if not addresses:
            raise DNSLookupError(f"nameserver {host} of zone {zone} has no address")
        servers.extend((address, port) for address in addresses)
    return servers


def _addresses(host: dns.name.Name, *, nameservers: Sequence[Nameserver]) -> list[str]:
    found: list[str] = []
    for rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
        response = _query(host, rdtype, nameservers=nameservers)
        found.extend(
            rdata.address for rrset in response.answer if rrset.rdtype == rdtype for rdata in rrset
        )
    return found


def _absolute(fqdn: str) -> dns.name.Name:
    return dns.name.from_text(fqdn.rstrip(".") + ".")


def _has(response: dns.message.Message, rdtype: dns.rdatatype.RdataType) -> bool:
    return any(rrset.rdtype == rdtype for rrset in response.answer)


def _query(
    name: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    *,
    nameservers: Sequence[Nameserver],
    recursion: bool = True,
) -> dns.message.Message:
    """The first answer from `nameservers` in order; UDP, then TCP when truncated."""
    if not nameservers:
        raise DNSLookupError("no nameservers configured")
    query = dns.message.make_query(name, rdtype)
    if not recursion:
        query.flags &= ~dns.flags.RD
    failures: list[str] = []
    for host, port in nameservers:
        address = host_address(host)
        try:
            response = dns.query.udp(query, address, port=port, timeout=QUERY_TIMEOUT_SECONDS)
            if response.flags & dns.flags.TC:
                response = dns.query.tcp(query, address, port=port, timeout=QUERY_TIMEOUT_SECONDS)
        except (OSError, dns.exception.DNSException) as error:
            failures.append(f"{host}:{port}: {type(error).__name__}")
            continue
        return response
    raise DNSLookupError(f"no answer for {name} {rdtype.name}: {'; '.join(failures)}")


def host_address(host: str) -> str:
    """dnspython talks to IP addresses: a nameserver given by name is resolved locally."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.gethostbyname(host)
    except OSError as error:
        raise DNSLookupError(f"cannot resolve nameserver {host}") from error
