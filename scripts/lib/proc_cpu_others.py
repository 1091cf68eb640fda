#!/usr/bin/env python3
"""CPU used by processes that are not the bench's own, over a window.

  proc_cpu_others.py snap OUT.json        snapshot utime+stime of every process
  proc_cpu_others.py diff SNAP.json ROOT  ticks used since SNAP by processes outside ROOT's tree

On a shared machine, other people's builds and benchmarks land on the pinned cores and skew the
numbers; bench.sh records this figure per run and flags the run when it is high. Processes that
started and exited inside the window are not seen, so it is a lower bound.
"""
import json
import os
import sys


def read_all():
    procs = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[0] is stat field 3; ppid = 4, utime = 14, stime = 15, starttime = 22.
        procs[int(name)] = {
            "ppid": int(fields[1]),
            "ticks": int(fields[11]) + int(fields[12]),
            "start": int(fields[19]),
            "comm": comm,
        }
    return procs


def tree(procs, root):
    children = {}
    for pid, p in procs.items():
        children.setdefault(p["ppid"], []).append(pid)
    out, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in out:
            out.add(pid)
            todo.extend(children.get(pid, []))
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "snap":
        with open(argv[2], "w", encoding="utf-8") as f:
            json.dump({str(k): v for k, v in read_all().items()}, f)
        return 0
    if len(argv) == 4 and argv[1] == "diff":
        with open(argv[2], encoding="utf-8") as f:
            before = {int(k): v for k, v in json.load(f).items()}
        now = read_all()
        mine = tree(now, int(argv[3])) | {os.getpid()}
        used = []
        for pid, p in now.items():
            if pid in mine:
                continue
            b = before.get(pid)
            # Same pid and start time: the same process; otherwise it started inside the window.
            ticks = p["ticks"] - b["ticks"] if b and b["start"] == p["start"] else p["ticks"]
            if ticks > 0:
                used.append((ticks, pid, p["comm"]))
        used.sort(reverse=True)
        if used:
            top = ", ".join(f"{comm}[{pid}] {ticks}" for ticks, pid, comm in used[:3])
            print(f"bench: CPU ticks of other processes in the window: {top}", file=sys.stderr)
        print(sum(t for t, _, _ in used))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
