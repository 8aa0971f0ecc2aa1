"""A small authoritative DNS server whose TXT answers come from a fake provider API.

Pebble resolves through it, so a challenge validates only if the provider's
write reached the fake API (moto, the local Cloudflare/Cloud DNS/acme-dns
endpoints): DNS serves exactly what the provider wrote, read at query time.
"""

from __future__ import annotations

import socketserver
import struct
import threading
from dataclasses import dataclass, field
from typing import Final, Protocol

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from tests.e2e.servers import LOOPBACK, free_port

TTL: Final = 1


class RecordSource(Protocol):
    """The TXT values a fake API currently holds at an absolute name."""

    def txt(self, name: str) -> set[str]: ...


class NoRecords:
    def txt(self, name: str) -> set[str]:
        return set()


@dataclass
class Zone:
    """One zone: SOA/NS/glue built in, CNAMEs fixed by the test, TXT from `source`."""

    origin: str  # "example.test."
    source: RecordSource = field(default_factory=NoRecords)
    cnames: dict[str, str] = field(default_factory=dict)  # absolute name -> absolute target

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        question = query.question[0]
        name, rdtype = question.name, question.rdtype
        origin = dns.name.from_text(self.origin)
        if not name.is_subdomain(origin):
            response.set_rcode(dns.rcode.REFUSED)
            return response
        for _ in range(8):  # chase in-zone CNAMEs as an authoritative server does
            target = self.cnames.get(name.to_text().lower())
            if target is None or rdtype == dns.rdatatype.CNAME:
                break
            response.answer.append(_rrset(name, dns.rdatatype.CNAME, [target]))
            name = dns.name.from_text(target)
        response.answer.extend(self._records(name, rdtype, origin))
        if not response.answer:
            response.authority.append(self._soa(origin))
        return response

    def _records(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType, origin: dns.name.Name
    ) -> list[dns.rrset.RRset]:
        text = name.to_text().lower()
        if rdtype == dns.rdatatype.CNAME and text in self.cnames:
            return [_rrset(name, rdtype, [self.cnames[text]])]
        if rdtype == dns.rdatatype.SOA and name == origin:
            return [self._soa(origin)]
        if rdtype == dns.rdatatype.NS and name == origin:
            return [_rrset(name, rdtype, [f"ns1.{self.origin}"])]
        if rdtype == dns.rdatatype.A and text == f"ns1.{self.origin}":
            return [_rrset(name, rdtype, [LOOPBACK])]
        if rdtype == dns.rdatatype.TXT:
            values = sorted(self.source.txt(text))
            if values:
                return [_rrset(name, rdtype, [_quoted(v) for v in values])]
        return []

    def _soa(self, origin: dns.name.Name) -> dns.rrset.RRset:
        return _rrset(
            origin, dns.rdatatype.SOA, [f"ns1.{self.origin} hostmaster.{self.origin} 1 60 60 60 1"]
        )


def _rrset(
    name: dns.name.Name, rdtype: dns.rdatatype.RdataType, texts: list[str]
) -> dns.rrset.RRset:
    return dns.rrset.from_text_list(name, TTL, dns.rdataclass.IN, rdtype, texts)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class _UDPHandler(socketserver.BaseRequestHandler):
    server: _UDP

    def handle(self) -> None:
        data, sock = self.request
        reply = self.server.zone_server.reply(data)
        if reply is not None:
            sock.sendto(reply, self.client_address)


class _TCPHandler(socketserver.BaseRequestHandler):
    server: _TCP

    def handle(self) -> None:
        header = self.request.recv(2)
        if len(header) < 2:
            return
        (length,) = struct.unpack("!H", header)
        data = b""
        while len(data) < length:
            chunk = self.request.recv(length - len(data))
            if not chunk:
                return
            data += chunk
        reply = self.server.zone_server.reply(data)
        if reply is not None:
            self.request.sendall(struct.pack("!H", len(reply)) + reply)


class _UDP(socketserver.ThreadingUDPServer):
    daemon_threads = True
    zone_server: AuthoritativeDNS


class _TCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    zone_server: AuthoritativeDNS


class AuthoritativeDNS:
    """UDP and TCP on one free loopback port; `zone.source` is swapped per test."""

    def __init__(self, zone: Zone) -> None:
        self.zone = zone
        self.port = free_port()
        self._servers: list[socketserver.BaseServer] = []
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def reply(self, data: bytes) -> bytes | None:
        try:
            query = dns.message.from_wire(data)
        except dns.exception.DNSException:  # garbage on the wire gets no answer
            return None
        if len(query.question) != 1:
            return None
        return bytes(self.zone.answer(query).to_wire())

    def start(self) -> AuthoritativeDNS:
        udp = _UDP((LOOPBACK, self.port), _UDPHandler)
        tcp = _TCP((LOOPBACK, self.port), _TCPHandler)
        for server in (udp, tcp):
            server.zone_server = self
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join()
