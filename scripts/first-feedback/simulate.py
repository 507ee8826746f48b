"""Simulates a cold cargo build on idle cores, for scripts/first-feedback/run.sh.

    python3 simulate.py TIMINGS.html RUSTC_CPU_LOG CORES

Each unit of cargo's `--timings` report takes the CPU seconds its rustc took (from the
RUSTC_CPU_LOG that rustc-cpu.sh wrote) on one core. A unit starts when a core is free and the
units the report says unblocked it have finished: all of it, or, where cargo pipelines, its
metadata (the report's `frontend` share of the unit). Prints the simulated wall time. It is a
model: rustc also uses a second core for a lone crate's code generation (so it errs high
there), and it knows nothing of a real machine's memory and hyper-threading (so it errs low).
"""
import heapq
import json
import re
import sys

html, log, cores = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(html, encoding="utf-8").read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", text, re.S).group(1))

# (package, crate name, crate type) -> CPU seconds of each rustc run, in log order.
cpu = {}
for line in open(log, encoding="utf-8"):
    fields = line.split()
    if len(fields) == 5 and fields[1] != "?":
        package, name, kind, user, system = fields
        cpu.setdefault((package, kind), []).append(float(user) + float(system))


def cost(unit):
    target = unit["target"]
    if "(run)" in target:
        return unit["duration"] * 0.5  # running a build script; no rustc
    if "build-script" in target:
        kind = "bin"
    elif '"test"' in target or "(test)" in target:
        kind = "test"
    elif '"bin"' in target:
        kind = "bin"
    else:
        kind = next((k for k in ("lib", "rlib", "proc-macro")
                     if (unit["name"], k) in cpu), "lib")
    runs = cpu.get((unit["name"], kind))
    if runs:
        return runs.pop(0)
    return 0.0  # fresh from an earlier step: not built in this one


ordered = sorted(units, key=lambda u: u["start"])
duration = {u["i"]: cost(u) for u in ordered}
start_order = {u["i"]: n for n, u in enumerate(ordered)}
metadata_share = {}
for u in units:
    sections = dict(u.get("sections") or [])
    front = sections.get("frontend")
    metadata_share[u["i"]] = (front["end"] / u["duration"]) if front and u["duration"] else 1.0

needs = {u["i"]: [] for u in units}  # unit -> [(dependency, metadata is enough)]
for u in units:
    for j in u.get("unblocked_units", []):
        needs[j].append((u["i"], False))
    for j in u.get("unblocked_rmeta_units", []):
        needs[j].append((u["i"], True))

finished, metadata_ready = set(), set()
events = []  # (time, kind, unit): kind 0 = metadata ready, 1 = finished
waiting = set(duration)
free, now = cores, 0.0
while waiting or events:
    for i in sorted(waiting, key=start_order.get):
        ready = all(d in (metadata_ready if meta else finished) for d, meta in needs[i])
        if free and ready:
            waiting.discard(i)
            free -= 1
            heapq.heappush(events, (now + duration[i] * metadata_share[i], 0, i))
            heapq.heappush(events, (now + duration[i], 1, i))
    if not events:
        sys.exit(f"stuck: {sorted(waiting)}")
    now, kind, i = heapq.heappop(events)
    if kind == 0:
        metadata_ready.add(i)
    else:
        finished.add(i)
        metadata_ready.add(i)
        free += 1
print(f"{sum(duration.values()):.1f} s CPU in {len(units)} units: {now:.1f} s on {cores} idle cores")
