"""Checks on the names a Certificate asks for, worded as cert-manager reports them.

Two sources of refusal: the webhook (secretName must be a DNS subdomain, email addresses
must parse as Go's `mail.ParseAddress` parses them) and CSR generation, which cannot put
a non-ASCII name into an IA5String SAN. cert-manager reports the second only as a
"Failed to generate CSR" Event; here both become field errors before anything is made.
"""

from __future__ import annotations

import re
from typing import Final

from shared.kube.names import subdomain_problems

__all__ = ["email_problem", "ia5_problem", "subdomain_problems"]

# RFC 5322 atext, as Go's net/mail accepts it in a dot-atom.
_ATOM: Final = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_QUOTED: Final = re.compile(r'"([^"\\\r\n]|\\.)*"')
_DOMAIN_LITERAL: Final = re.compile(r"\[[^\[\]\\\s]*\]")


def ia5_problem(value: str, *, dns: bool = False) -> str | None:
    """Why `value` cannot be a SAN (an IA5String holds ASCII only), with the fix for a
    DNS name: its A-label, which is what a CA issues for an internationalised name."""
    if value.isascii():
        return None
    problem = f'x509: "{value}" cannot be encoded as an IA5String'
    if dns:
        try:
            a_label = value.encode("idna").decode("ascii")
        except UnicodeError:
            return f"{problem}; not a valid internationalised domain name either"
        return f'{problem}; use its A-label "{a_label}"'
    return problem


def email_problem(address: str) -> str | None:
    """Why `address` is not a bare RFC 5322 addr-spec, in the webhook's words."""
    if "<" in address or ">" in address or address != address.strip():
        return (
            "invalid email address: make sure the supplied value only contains the email "
            "address itself"
        )
    local, at, domain = address.rpartition("@")
    if not at:
        return "invalid email address: mail: missing '@' or angle-addr"
    if not local or not (_ATOM.fullmatch(local) or _QUOTED.fullmatch(local)):
        if not local.isascii():
            return ia5_problem(address)
        return "invalid email address: mail: invalid string"
    if not domain or not (_ATOM.fullmatch(domain) or _DOMAIN_LITERAL.fullmatch(domain)):
        if domain and not domain.isascii():
            return ia5_problem(address)
        return "invalid email address: mail: no domain in addr-spec"
    return None
