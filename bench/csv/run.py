#!/usr/bin/env python3
"""Driver for bench/csv (see bench/csv/run): generates the CSV if missing,
runs the glassbox parser and pandas.read_csv as separate processes, and
reports the best wall and CPU time of BENCH_CSV_REPEAT runs of the parse
alone and each one's peak RSS (GNU time's maximum resident set size)."""
import json
import os
import subprocess
import sys

import numpy as np

ROWS = int(os.environ.get("BENCH_CSV_ROWS", "1000000"))
COLS = 40
REPEAT = int(os.environ.get("BENCH_CSV_REPEAT", "2"))
path = "build/bench/csv_%dx%d.csv" % (ROWS, COLS)


def generate():
    """Values of mixed sign and magnitude with 4 decimals (~10 bytes a field)."""
    rng = np.random.default_rng(20240607)
    tmp = path + ".tmp"
    block = 50000
    with open(tmp, "w") as f:
        f.write(",".join("x%d" % j for j in range(COLS)) + "\n")
        for start in range(0, ROWS, block):
            n = min(block, ROWS - start)
            x = np.round(rng.standard_normal((n, COLS)) * 10.0 ** rng.integers(0, 4, (n, COLS)), 5)
            lines = [",".join(map(repr, row)) for row in x.tolist()]
            f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def run(cmd):
    """Runs cmd under /usr/bin/time (a small parent, so the child's peak RSS is
    its own, not inherited from this Python process); returns (stdout JSON,
    peak RSS in bytes)."""
    rss_file = "build/bench/rss.txt"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd,
                          stdout=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        sys.exit("bench/csv: %s failed (status %d)" % (cmd[0], proc.returncode))
    with open(rss_file) as f:
        rss_kb = int(f.read().split()[-1])
    return json.loads(proc.stdout), rss_kb * 1024


PANDAS = r"""
import json, sys, time
import pandas as pd
t0, c0 = time.perf_counter(), time.process_time()
df = pd.read_csv(sys.argv[1])
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"seconds": secs, "cpu_seconds": cpu, "rows": len(df), "cols": df.shape[1],
                  "version": pd.__version__}))
"""

if not os.path.exists(path):
    print("bench/csv: generating %s ..." % path, flush=True)
    generate()
size = os.path.getsize(path)
mb = size / 1e6
parsed_bytes = ROWS * COLS * 8
print("bench/csv: %s, %.1f MB, %d rows x %d columns; float64 columns = %.0f MB"
      % (path, mb, ROWS, COLS, parsed_bytes / 1e6))

results = {}
for name, cmd in [("glassbox", [sys.argv[1], path]),
                  ("pandas", [sys.executable, "-c", PANDAS, path])]:
    wall, cpu, rss, extra = None, None, 0, None
    for _ in range(REPEAT):
        out, peak = run(cmd)
        if out["rows"] != ROWS or out["cols"] != COLS:
            sys.exit("bench/csv: %s parsed %s" % (name, out))
        wall = out["seconds"] if wall is None else min(wall, out["seconds"])
        cpu = out["cpu_seconds"] if cpu is None else min(cpu, out["cpu_seconds"])
        rss = max(rss, peak)
        extra = out.get("version")
    results[name] = (wall, cpu, rss)
    print("  %-9s wall %6.2f s = %7.1f MB/s | CPU %6.2f s = %7.1f MB/s | peak RSS %6.1f MB "
          "(%.2fx the float64 columns)%s"
          % (name, wall, mb / wall, cpu, mb / cpu, rss / 1e6, rss / parsed_bytes,
             "  [pandas %s]" % extra if extra else ""), flush=True)

g, p = results["glassbox"], results["pandas"]
print("  speed ratio glassbox/pandas: wall %.2fx, CPU %.2fx (target >= 3x): %s"
      % (p[0] / g[0], p[1] / g[1], "ok" if p[1] / g[1] >= 3 else "BELOW TARGET"))
print("  glassbox peak RSS / float64 columns: %.2fx (target <= 1.5x): %s"
      % (g[2] / parsed_bytes, "ok" if g[2] <= 1.5 * parsed_bytes else "ABOVE TARGET"))
print("  (wall times depend on the machine's load; CPU time is the process's own work)")
