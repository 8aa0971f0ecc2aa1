"""RFC 2136 dynamic updates with TSIG (BIND, PowerDNS, Knot...): cert-manager's `rfc2136` solver."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Final

import dns.exception
import dns.name
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.tsig
import dns.tsigkeyring
import dns.update

from shared.dns01.errors import DNSLookupError, DNSUpdateError, ProviderConfigError
from shared.dns01.resolver import host_address, parse_nameserver

# The names cert-manager accepts for tsigAlgorithm; HMACMD5 is its default.
TSIG_ALGORITHMS: Final = {
    "HMACMD5": dns.tsig.HMAC_MD5,
    "HMACSHA1": dns.tsig.HMAC_SHA1,
    "HMACSHA256": dns.tsig.HMAC_SHA256,
    "HMACSHA512": dns.tsig.HMAC_SHA512,
}
DEFAULT_TSIG_ALGORITHM: Final = "HMACMD5"
TTL: Final = 60
UPDATE_TIMEOUT_SECONDS: Final = 5.0


@dataclass(frozen=True)
class RFC2136Provider:
    """Adds/removes one TXT value per call, over TCP, signed when a TSIG key is set."""

    nameserver: str  # "host" or "host:port" (port 53 by default)
    tsig_key_name: str = ""
    tsig_algorithm: str = DEFAULT_TSIG_ALGORITHM
    tsig_secret: str = field(default="", repr=False)  # base64, as tsig-keygen prints it

    def __post_init__(self) -> None:
        try:
            parse_nameserver(self.nameserver)
        except ValueError as error:
            raise ProviderConfigError(f"rfc2136 nameserver: {error}") from None
        if self.tsig_algorithm.upper() not in TSIG_ALGORITHMS:
            allowed = ", ".join(TSIG_ALGORITHMS)
            raise ProviderConfigError(
                f"rfc2136 tsigAlgorithm {self.tsig_algorithm!r} is not one of {allowed}"
            )
        if self.tsig_key_name:
            self._secret_bytes()

    def present(self, *, fqdn: str, zone: str, value: str) -> None:
        # Adding an RR that exists is a no-op in RFC 2136, so a repeat is harmless.
        update = self._update(zone)
        update.add(_name(fqdn), TTL, _txt(value))
        self._send(update, action=f"adding TXT at {fqdn}")

    def cleanup(self, *, fqdn: str, zone: str, value: str) -> None:
        # Deleting one RR by value leaves other TXT values at the name alone,
        # and deleting an absent RR is a no-op.
        update = self._update(zone)
        update.delete(_name(fqdn), _txt(value))
        self._send(update, action=f"removing TXT at {fqdn}")

    def _update(self, zone: str) -> dns.update.UpdateMessage:
        if not self.tsig_key_name:
            return dns.update.UpdateMessage(_name(zone))
        key_name = _name(self.tsig_key_name)
        return dns.update.UpdateMessage(
            _name(zone),
            keyring=dns.tsigkeyring.from_text({key_name.to_text(): self.tsig_secret}),
            keyname=key_name,
            keyalgorithm=TSIG_ALGORITHMS[self.tsig_algorithm.upper()],
        )

    def _send(self, update: dns.update.UpdateMessage, *, action: str) -> None:
        host, port = parse_nameserver(self.nameserver)
        try:
            response = dns.query.tcp(
                update, host_address(host), port=port, timeout=UPDATE_TIMEOUT_SECONDS
            )
        except dns.tsig.PeerError as error:
            raise DNSUpdateError(
                f"{action} via {self.nameserver}: the server rejected the TSIG signature"
                f" ({type(error).__name__}); check tsigKeyName, tsigAlgorithm and the secret"
            ) from error
        except (OSError, dns.exception.DNSException, DNSLookupError) as error:
            raise DNSUpdateError(
                f"{action} via {self.nameserver}: {type(error).__name__}"
            ) from error
        if response.rcode() != dns.rcode.NOERROR:
            raise DNSUpdateError(
                f"{action} via {self.nameserver}: {dns.rcode.to_text(response.rcode())}"
            )

    def _secret_bytes(self) -> bytes:
        try:
            return base64.b64decode(self.tsig_secret, validate=True)
        except (binascii.Error, ValueError):
            raise ProviderConfigError("rfc2136 tsigSecret is not valid base64") from None


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text.rstrip(".") + ".")


def _txt(value: str) -> dns.rdtypes.ANY.TXT.TXT:
    return dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, [value.encode()])
