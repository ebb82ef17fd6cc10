#!/usr/bin/env python3
"""Writes a pcap of DNS queries for replay benchmarks (scripts/bench-pipeline).

usage: gen-dns-pcap.py OUT.pcap [--names N] [--flows F] [--edns-every K]
                       [--dst-mac MAC] [--dst-ip IP] [--zone ZONE]
                       [--hit-every K --hit-zone Z]

N distinct names (www<i>.<zone>, A, IN, RD), one frame each, from F client
addresses in 198.18.0.0/15 (198.18.1+f/250.1+f%250, source ports 1024...), to
DST-IP port 53 and DST-MAC; every K-th query carries an EDNS(0) OPT record
(UDP size 1232, DO clear). IPv4 header checksums are valid, UDP checksums 0
(allowed for IPv4). With --hit-every K, every K-th name (i % K == 0) is
www<i>.<Z> instead (scripts/bench-pipeline --override-hit: a name an override
rule for Z matches). Classic pcap format, microsecond timestamps, Ethernet.
"""
import argparse
import struct


def mac_bytes(s):
    b = bytes(int(x, 16) for x in s.split(":"))
    if len(b) != 6:
        raise ValueError("bad MAC " + s)
    return b


def ip_bytes(s):
    return bytes(int(x) for x in s.split("."))


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(i, name, edns):
    hdr = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 1 if edns else 0)
    q = qname(name) + struct.pack("!HH", 1, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if edns else b""
    return hdr + q + opt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--names", type=int, default=1000)
    ap.add_argument("--flows", type=int, default=256)
    ap.add_argument("--edns-every", type=int, default=4)
    ap.add_argument("--dst-mac", default="02:70:63:61:70:00")
    ap.add_argument("--src-mac", default="02:00:00:00:00:01")
    ap.add_argument("--dst-ip", default="198.18.0.53")
    ap.add_argument("--zone", default="example.test")
    ap.add_argument("--hit-every", type=int, default=0)
    ap.add_argument("--hit-zone", default="blocked.example.test")
    a = ap.parse_args()

    dst_mac, src_mac = mac_bytes(a.dst_mac), mac_bytes(a.src_mac)
    dst_ip = ip_bytes(a.dst_ip)
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(a.names):
            flow = i % a.flows
            src_ip = bytes([198, 18, 1 + flow // 250, 1 + flow % 250])
            sport = 1024 + i % 60000
            zone = a.hit_zone if a.hit_every and i % a.hit_every == 0 else a.zone
            dns = query(i, "www%d.%s" % (i, zone), a.edns_every and i % a.edns_every == 0)
            udp = struct.pack("!HHHH", sport, 53, 8 + len(dns), 0) + dns
            iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0x4000,
                              64, 17, 0, src_ip, dst_ip)
            iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
            frame = dst_mac + src_mac + b"\x08\x00" + iph + udp
            f.write(struct.pack("<IIII", 1, i, len(frame), len(frame)) + frame)


if __name__ == "__main__":
    main()
