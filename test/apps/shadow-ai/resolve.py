"""A stub resolver: asks one DNS server (UDP/53) for A records, never the system resolver.

The shadow-AI tests resolve provider names (api.openai.com) through a responder they run on
127.0.0.x:53, so no /etc/hosts or resolv.conf is touched; the query is an ordinary UDP/53 send,
which is what the sensor inspects.
"""
import random
import socket
import struct

_system_getaddrinfo = socket.getaddrinfo


def query_a(server: str, name: str, timeout: float = 3.0) -> list[str]:
    txid = random.randrange(65536)
    q = struct.pack(">HHHHHH", txid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".")) + b"\0"
    q += struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(q, (server, 53))
        data, _ = s.recvfrom(2048)
    finally:
        s.close()
    (rid, flags, qd, an, _, _) = struct.unpack(">HHHHHH", data[:12])
    if rid != txid or flags & 0x000F:
        raise OSError(f"DNS {name}: rcode {flags & 0xF}")
    pos = 12
    for _ in range(qd):  # skip the question
        while data[pos] != 0:
            pos += 1 + data[pos]
        pos += 5
    out = []
    for _ in range(an):
        if data[pos] & 0xC0:
            pos += 2
        else:
            while data[pos] != 0:
                pos += 1 + data[pos]
            pos += 1
        rtype, _, _, rdlen = struct.unpack(">HHIH", data[pos:pos + 10])
        pos += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(data[pos:pos + 4]))
        pos += rdlen
    if not out:
        raise OSError(f"DNS {name}: no A record")
    return out


def use_resolver(server: str) -> None:
    """Every getaddrinfo of a name (not an address literal) asks `server`."""

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        try:
            socket.inet_aton(host)
            return _system_getaddrinfo(host, port, family, type, proto, flags)
        except (OSError, TypeError):
            pass
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (addr, int(port))) for addr in query_a(server, host)]

    socket.getaddrinfo = getaddrinfo
