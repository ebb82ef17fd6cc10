#!/usr/bin/env python3
"""Arithmetic for the DPDK benchmark scripts (scripts/bench-pipeline, bench-veth).

  bench-calc.py delta FILE0 FILE1
      FILE0/FILE1: `hf-stats --workers` samples (lines "hf-stats ns=.. worker=W k=v ...").
      Prints one shell-assignable line:
        secs=S answers=N hits=N misses=N ovr=N busy=N rx=N rate=R w0=R0 w1=R1 ...
      (rate: answers/s of all workers; wN: answers/s of worker N)
  bench-calc.py testpmd LOG SKIP
      Mean over testpmd's --stats-period displays after the first SKIP of the
      summed Rx-pps and Tx-pps of all ports; prints "rx_pps=.. tx_pps=.. displays=N".
  bench-calc.py testpmd-total LOG
      Last display's summed RX-packets/TX-packets: "rx=.. tx=..".
  bench-calc.py summary VALUES...
      "median min max" of the numbers.
"""
import re
import statistics
import sys


def parse_stats(path):
    out = {}
    for line in open(path):
        f = line.split()
        if not f or f[0] != "hf-stats":
            continue
        kv = dict(x.split("=", 1) for x in f[1:])
        w = kv.pop("worker")
        out[w] = {k: int(v) for k, v in kv.items()}
    return out


def delta(p0, p1):
    a, b = parse_stats(p0), parse_stats(p1)
    secs = (b["all"]["ns"] - a["all"]["ns"]) / 1e9
    d = {k: b["all"][k] - a["all"][k] for k in b["all"]}
    out = [
        "secs=%.4f" % secs,
        "answers=%d" % d["dns_answers"],
        "hits=%d" % d["cache_hits"],
        "misses=%d" % d["cache_misses"],
        "ovr=%d" % d.get("override_hits", 0),
        "busy=%d" % d["busy_cycles"],
        "rx=%d" % d["rx_packets"],
        "tx=%d" % d["tx_packets"],
        "txdrop=%d" % d["tx_dropped"],
        "rate=%.0f" % (d["dns_answers"] / secs),
    ]
    for w in sorted((k for k in b if k != "all"), key=int):
        out.append("w%s=%.0f" % (w, (b[w]["dns_answers"] - a[w]["dns_answers"]) / secs))
        out.append("busy%s=%d" % (w, b[w]["busy_cycles"] - a[w]["busy_cycles"]))
    print(" ".join(out))


def testpmd_displays(path):
    """List of displays; each a dict port -> {field: value}."""
    displays, cur, port = [], None, None
    text = open(path, errors="replace").read()
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    for line in text.splitlines():
        m = re.search(r"NIC statistics for port (\d+)", line)
        if m:
            port = int(m.group(1))
            if cur is None or port in cur:
                cur = {}
                displays.append(cur)
            cur[port] = {}
            continue
        if port is None or cur is None:
            continue
        for k, v in re.findall(r"([A-Za-z-]+):\s+(\d+)", line):
            cur[port].setdefault(k, int(v))
    return displays


def testpmd(path, skip):
    d = [x for x in testpmd_displays(path) if x and all("Rx-pps" in p for p in x.values())]
    use = d[skip:] or d[-1:]
    if not use:
        print("rx_pps=0 tx_pps=0 displays=0")
        return
    rx = statistics.mean(sum(p["Rx-pps"] for p in x.values()) for x in use)
    tx = statistics.mean(sum(p.get("Tx-pps", 0) for p in x.values()) for x in use)
    print("rx_pps=%.0f tx_pps=%.0f displays=%d" % (rx, tx, len(use)))


def testpmd_total(path):
    d = [x for x in testpmd_displays(path) if x and all("RX-packets" in p for p in x.values())]
    if not d:
        print("rx=0 tx=0")
        return
    x = d[-1]
    print("rx=%d tx=%d" % (sum(p["RX-packets"] for p in x.values()),
                           sum(p.get("TX-packets", 0) for p in x.values())))


def summary(vals):
    v = [float(x) for x in vals]
    print("%g %g %g" % (statistics.median(v), min(v), max(v)))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "delta":
        delta(sys.argv[2], sys.argv[3])
    elif cmd == "testpmd":
        testpmd(sys.argv[2], int(sys.argv[3]))
    elif cmd == "testpmd-total":
        testpmd_total(sys.argv[2])
    elif cmd == "summary":
        summary(sys.argv[2:])
    else:
        sys.exit(__doc__)
