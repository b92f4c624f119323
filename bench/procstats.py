"""CPU time and memory of a server's whole process tree, read from ``/proc`` (Linux only).

The benchmark charges each server with the CPU its master and workers used during a load
run (``utime + stime`` of every process in the tree), so that a server's cost per request
can be compared independently of how much CPU the load generator took from it on a shared
2-core machine.  Memory is read from ``/proc/PID/smaps_rollup``: RSS, PSS (shared pages
divided among the processes that share them, so PSS adds up across processes) and USS
(private pages: what the process would give back if it exited).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parent_pid(pid: int) -> int:
    """The parent's pid, or -1 if ``pid`` is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            stat = f.read()
    except OSError:
        return -1
    # The command name (field 2) is in parentheses and may contain spaces.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            children.setdefault(parent_pid(int(name)), []).append(int(name))
    return children


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, root first."""
    children = _children_map()
    tree, todo = [], [root]
    while todo:
        pid = todo.pop(0)
        tree.append(pid)
        todo.extend(sorted(children.get(pid, [])))
    return tree


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def tree_cpu(root: int) -> dict[int, float]:
    """CPU seconds of every process in the tree, by pid."""
    return {pid: cpu_seconds(pid) for pid in process_tree(root)}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two ``tree_cpu`` snapshots (processes started in between
    count in full; those that exited in between are lost, which the load runs avoid)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def system_busy_seconds() -> float:
    """CPU seconds all CPUs spent busy since boot (user, nice, system, irq, softirq, steal).

    Subtracting what the server and wrk used over a run leaves what other processes on the
    machine (or the hypervisor, as steal) took: a run with much of that is not trustworthy.
    """
    with open("/proc/stat", encoding="ascii") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


@dataclass
class Memory:
    rss_kib: int
    pss_kib: int
    uss_kib: int


def memory(pid: int) -> Memory | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    values: dict[str, int] = {}
    for line in lines[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].isdigit():
            values[parts[0].rstrip(":")] = int(parts[1])
    return Memory(
        rss_kib=values.get("Rss", 0),
        pss_kib=values.get("Pss", 0),
        uss_kib=values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
    )


@dataclass
class TreeMemory:
    workers: int
    worker_rss_mib: float
    """Mean RSS of one worker."""
    worker_uss_mib: float
    """Mean private memory of one worker."""
    total_pss_mib: float
    """PSS of every process of the server, master included: its real memory cost."""


def tree_memory(root: int, worker_pids: list[int]) -> TreeMemory:
    tree = process_tree(root)
    readings = {pid: memory(pid) for pid in tree}
    workers = [readings[pid] for pid in worker_pids if readings.get(pid)]
    total_pss = sum(m.pss_kib for m in readings.values() if m)
    count = max(1, len(workers))
    return TreeMemory(
        workers=len(workers),
        worker_rss_mib=sum(m.rss_kib for m in workers if m) / count / 1024,
        worker_uss_mib=sum(m.uss_kib for m in workers if m) / count / 1024,
        total_pss_mib=total_pss / 1024,
    )
