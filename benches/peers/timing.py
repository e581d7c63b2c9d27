"""The one timing loop of the peer scripts (imported from beside them; not a timing script itself).

`timed(step, repeats, warmup)` runs `step` `warmup` times untimed, then `repeats` times, and
returns each run's wall time in seconds (`time.perf_counter`), which the scripts write with
`--json` for `cargo xtask bench-report` to take the median of.
"""
import time


def timed(step, repeats, warmup=0):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return times
