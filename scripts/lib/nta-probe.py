#!/usr/bin/env python3
"""The client side of scripts/bench-nta: run inside the client namespace.

usage: nta-probe.py --server IP --name NAME --qtype TYPE --zone ZONE
                    --repeat N [--interval-us U] [--limit-s S]
                    [--fill N --fill-zone Z --fill-rate R] --ctl CMD...

With --fill N, the N rounds run twice: first as they are (phase=empty), then,
after asking N distinct names fill<i>.<Z> A (R per second) so that the
dataplane's cache holds that many more entries (a purge walks them all;
prints "fill: sent N answered M noerror K in S s (rcodes ...)"), again
(phase=filled).

For each of N rounds:
  1. ask NAME until the answer is SERVFAIL (the zone is bogus; up to LIMIT s);
  2. start asking NAME every U us (a new query ID each, EDNS, DO clear) from
     a receiving thread's socket, then run `CMD nta add ZONE --lifetime 1h
     --reason bench-nta` (CMD: holdfastctl -s SOCKET), noting CLOCK_MONOTONIC
     before it starts (t0) and when it returns (t_ret);
  3. the first answer NOERROR with EDE 33 (Negative Trust Anchor) that
     arrives: t_ok (time of receipt);
  4. `CMD nta remove ZONE`, the same way: first SERVFAIL after it: t_bad.
Prints one line per round:
  round=R add_cmd_ms=.. add_wire_ms=.. add_after_return_ms=.. rm_cmd_ms=.. rm_wire_ms=..
(wire: from t0 to the first correct answer received; after_return: from the
command's return). CLOCK_MONOTONIC is the clock the dataplane's purge log uses.
Exits 1 if a round did not see the expected answer within LIMIT s.
"""
import argparse
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

TYPES = {"A": 1, "NS": 2, "TXT": 16, "AAAA": 28, "MX": 15, "SOA": 6}


def qname(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(qid, name, qtype):
    hdr = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1)
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0)
    return hdr + qname(name) + struct.pack("!HH", qtype, 1) + opt


def skip_name(b, o):
    while True:
        n = b[o]
        if n == 0:
            return o + 1
        if n & 0xC0 == 0xC0:
            return o + 2
        o += 1 + n


def parse(b):
    """(id, rcode, [ede codes]) or None."""
    try:
        qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", b[:12])
        o = 12
        for _ in range(qd):
            o = skip_name(b, o) + 4
        rcode, edes = flags & 0xF, []
        for i in range(an + ns + ar):
            o = skip_name(b, o)
            t, _c, ttl, rdlen = struct.unpack("!HHIH", b[o:o + 10])
            o += 10
            if t == 41 and i >= an + ns:
                rcode |= (ttl >> 24) << 4
                p = o
                while p + 4 <= o + rdlen:
                    code, ln = struct.unpack("!HH", b[p:p + 4])
                    if code == 15 and ln >= 2:
                        edes.append(struct.unpack("!H", b[p + 4:p + 6])[0])
                    p += 4 + ln
            o += rdlen
        return qid, rcode, edes
    except (struct.error, IndexError):
        return None


class Poller:
    def __init__(self, server, name, qtype, interval):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.connect((server, 53))
        self.s.settimeout(0.05)
        self.name, self.qtype, self.interval = name, qtype, interval
        self.want = None
        self.hit = None
        self.lock = threading.Lock()
        self.stop = False
        self.sent = {}
        threading.Thread(target=self.rx, daemon=True).start()

    def rx(self):
        while not self.stop:
            try:
                b = self.s.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                continue
            t = time.monotonic_ns()
            r = parse(b)
            if r is None:
                continue
            with self.lock:
                if self.want and self.hit is None and r[0] in self.sent and self.want(r[1], r[2]):
                    self.hit = (t, r[1], r[2], self.sent[r[0]])

    def run(self, want, start_action, limit_s):
        """Polls until want(rcode, edes); start_action() runs after the first query.
        Returns (t_action_start, t_action_end, t_hit) or None."""
        with self.lock:
            self.want, self.hit, self.sent = want, None, {}
        qid = random.randrange(65536)
        t_start = time.monotonic_ns()
        deadline = t_start + int(limit_s * 1e9)
        action = None
        nxt = t_start
        while True:
            now = time.monotonic_ns()
            with self.lock:
                if self.hit is not None:
                    break
            if now > deadline:
                return None
            if now >= nxt:
                qid = (qid + 1) & 0xFFFF
                with self.lock:
                    self.sent[qid] = now
                try:
                    self.s.send(query(qid, self.name, self.qtype))
                except OSError:
                    pass
                nxt = now + self.interval
            if action is None and start_action is not None:
                # The command runs in a thread so that polling goes on meanwhile.
                action = [0, 0]

                def go():
                    action[0] = time.monotonic_ns()
                    start_action()
                    action[1] = time.monotonic_ns()
                th = threading.Thread(target=go)
                th.start()
            time.sleep(max(0, min(nxt - time.monotonic_ns(), 200_000)) / 1e9)
        if action is not None:
            th.join()
        with self.lock:
            hit = self.hit
            self.want = None
        return (action[0] if action else t_start, action[1] if action else t_start, hit[0])


def fill(server, n, zone, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, 53))
    s.settimeout(0.05)
    got = {"all": 0, "ok": 0, "rcodes": {}}
    done = threading.Event()

    def rx():
        while not done.is_set():
            try:
                r = parse(s.recv(4096))
            except (socket.timeout, OSError):
                continue
            if r:
                got["all"] += 1
                got["ok"] += r[1] == 0
                got["rcodes"][r[1]] = got["rcodes"].get(r[1], 0) + 1
    th = threading.Thread(target=rx, daemon=True)
    th.start()
    t0 = time.monotonic()
    tag = random.randrange(1 << 30)
    for i in range(n):
        due = t0 + i / rate
        d = due - time.monotonic()
        if d > 0:
            time.sleep(d)
        try:
            s.send(query(i & 0xFFFF, "fill%d-%d.%s" % (tag, i, zone), 1))
        except OSError:
            pass
    end = time.monotonic() + 5
    while got["all"] < n and time.monotonic() < end:
        time.sleep(0.05)
    done.set()
    print("fill: sent %d answered %d noerror %d in %.1f s (rcodes %s)" % (
        n, got["all"], got["ok"], time.monotonic() - t0,
        " ".join("%d:%d" % kv for kv in sorted(got["rcodes"].items()))), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--qtype", default="TXT")
    ap.add_argument("--zone", required=True)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--interval-us", type=int, default=500)
    ap.add_argument("--limit-s", type=float, default=10)
    ap.add_argument("--fill", type=int, default=0)
    ap.add_argument("--fill-zone", default="wild.a.test")
    ap.add_argument("--fill-rate", type=int, default=2000)
    ap.add_argument("--ctl", nargs=argparse.REMAINDER, required=True)
    a = ap.parse_args()
    p = Poller(a.server, a.name, TYPES[a.qtype], a.interval_us * 1000)

    def ctl(*args):
        r = subprocess.run(a.ctl + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stderr.write("nta-probe: %s: %s" % (" ".join(args), r.stdout.decode(errors="replace")))

    rc = 0
    phases = ["empty", "filled"] if a.fill else ["empty"]
    for phase in phases:
        if phase == "filled":
            fill(a.server, a.fill, a.fill_zone, a.fill_rate)
        if rounds(a, p, ctl, phase) != 0:
            rc = 1
    p.stop = True
    sys.exit(rc)


def rounds(a, p, ctl, phase):
    servfail = lambda rc, ede: rc == 2
    nta_ok = lambda rc, ede: rc == 0 and 33 in ede
    rc = 0
    for rnd in range(1, a.repeat + 1):
        if p.run(servfail, None, a.limit_s) is None:
            print("phase=%s round=%d error=no SERVFAIL before the add (is the zone broken?)" % (phase, rnd), flush=True)
            rc = 1
            break
        add = p.run(nta_ok, lambda: ctl("nta", "add", a.zone, "--lifetime", "1h", "--reason", "bench-nta"),
                    a.limit_s)
        if add is None:
            # Counted as a failed round; the NTA goes (two purges, like a good round).
            print("phase=%s round=%d error=no NOERROR with EDE 33 within %g s of nta add" % (phase, rnd, a.limit_s), flush=True)
            rc = 1
            ctl("nta", "remove", a.zone)
            continue
        rm = p.run(servfail, lambda: ctl("nta", "remove", a.zone), a.limit_s)
        if rm is None:
            print("phase=%s round=%d error=no SERVFAIL within %g s of nta remove" % (phase, rnd, a.limit_s), flush=True)
            rc = 1
            continue
        ms = lambda d: "%.3f" % (d / 1e6)
        print("phase=%s round=%d add_t0=%d add_cmd_ms=%s add_wire_ms=%s add_after_return_ms=%s rm_t0=%d rm_cmd_ms=%s rm_wire_ms=%s"
              % (phase, rnd, add[0], ms(add[1] - add[0]), ms(add[2] - add[0]), ms(add[2] - add[1]),
                 rm[0], ms(rm[1] - rm[0]), ms(rm[2] - rm[0])), flush=True)
        time.sleep(0.1)
    return rc


if __name__ == "__main__":
    main()
