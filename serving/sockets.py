"""Listening sockets that share one address: the kernel spreads new connections over them."""

from __future__ import annotations

import socket


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) beside others with SO_REUSEPORT; not yet listening.

    Linux joins a TCP socket to the port's group, which it spreads incoming connections over by a hash of
    their addresses, only when it listens; the worker that owns it listens once its app has started, so a
    worker still starting gets no connections.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])
