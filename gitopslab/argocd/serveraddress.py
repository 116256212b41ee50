"""Reaching a server as the ``argocd`` CLI (Go) does, with Go's wording of what goes wrong.

``dial`` is the TCP dial of ``grpc_util.TestTLS``/``BlockingNewClient``
(``:443`` added to an address without a port); its errors read as Go's
``net.Dial`` errors (``dial tcp 127.0.0.1:1: connect: connection refused``).
``certificate_error`` is Go's TLS verification error for the self-signed
certificate argocd-server generates (AC ``util/settings``: hosts ``localhost``,
``argocd-server``, ``argocd-server.<ns>``, ``….svc``, ``….svc.cluster.local``;
no IP address).
"""
from __future__ import annotations

import errno
import socket
from pathlib import Path

DIAL_SECONDS = 5.0
ARGOCD_NAMESPACE = "argocd"
CERTIFICATE_HOSTS = ("localhost", "argocd-server", f"argocd-server.{ARGOCD_NAMESPACE}",
                     f"argocd-server.{ARGOCD_NAMESPACE}.svc", f"argocd-server.{ARGOCD_NAMESPACE}.svc.cluster.local")


class DialError(Exception):
    """A TCP dial that failed, worded as Go's ``net.Dial`` error."""


def split_address(address: str) -> tuple[str, str]:
    """``net.SplitHostPort`` after ``TestTLS`` added ``:443`` to an address without a colon."""
    if ":" not in address:
        address += ":443"
    if address.startswith("["):
        host, sep, port = address[1:].partition("]:")
        if not sep:
            raise DialError(f"dial tcp: address {address}: missing port in address")
        return host, port
    if address.count(":") > 1:
        raise DialError(f"dial tcp: address {address}: too many colons in address")
    host, _, port = address.partition(":")
    return host, port


def _nameserver() -> str:
    """The resolver Go's pure-Go DNS client asks: the first ``nameserver`` of /etc/resolv.conf."""
    try:
        lines = Path("/etc/resolv.conf").read_text().splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 2 and parts[0] == "nameserver":
            return f"{parts[1]}:53"
    return "127.0.0.1:53"


def dial(address: str) -> tuple[str, int]:
    """Open (and close) a TCP connection to ``address``; the ``(ip, port)`` reached, or ``DialError``."""
    host, port_text = split_address(address)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise DialError(f"dial tcp: lookup tcp/{port_text}: unknown port")
    port = int(port_text)
    try:
        ip = socket.getaddrinfo(host or "127.0.0.1", port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    except socket.gaierror:
        raise DialError(f"dial tcp: lookup {host} on {_nameserver()}: no such host") from None
    try:
        socket.create_connection((ip, port), timeout=DIAL_SECONDS).close()
    except socket.timeout:
        raise DialError(f"dial tcp {ip}:{port}: i/o timeout") from None
    except OSError as e:
        reason = "connection refused" if e.errno == errno.ECONNREFUSED else (e.strerror or str(e)).lower()
        raise DialError(f"dial tcp {ip}:{port}: connect: {reason}") from None
    return ip, port


def certificate_error(host: str) -> str:
    """Go's verification error for argocd-server's self-signed certificate reached as ``host``."""
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in host else socket.AF_INET, host)
        reason = f"x509: cannot validate certificate for {host} because it doesn't contain any IP SANs"
    except OSError:
        if host.lower() in CERTIFICATE_HOSTS:
            reason = "x509: certificate signed by unknown authority"
        else:
            reason = f"x509: certificate is valid for {', '.join(CERTIFICATE_HOSTS)}, not {host}"
    return f"error creating connection: tls: failed to verify certificate: {reason}"
