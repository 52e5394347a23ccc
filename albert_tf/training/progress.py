"""Progress lines with an ETA for long evaluation and prediction passes, as the
trainer prints for training."""

import math
import time


def with_progress(batches, total, what, every_seconds=30.0, clock=time.monotonic):
    """Yields from `batches`, printing `<what>: batch i/total | ETA ...` at most every
    `every_seconds` (and at the end, when a line was printed before it). `total` may be None
    (unknown): then the count alone is printed."""
    start = last = clock()
    done = shown = 0
    for batch in batches:
        yield batch
        done += 1
        now = clock()
        if now - last >= every_seconds:
            last, shown = now, done
            print(progress_line(what, done, total, now - start), flush=True)
    if 0 < shown < done:
        print(progress_line(what, done, total, clock() - start), flush=True)


def progress_line(what, done, total, elapsed):
    """`what: batch done/total | x.x batches/s | ETA 1m05s` (ETA only with a total)."""
    rate = done / elapsed if elapsed > 0 else float("inf")
    line = f"{what}: batch {done}" + (f"/{total}" if total else "")
    line += f" | {rate:.2f} batches/s"
    if total:
        line += f" | ETA {format_duration((total - done) / rate if rate > 0 else float('inf'))}"
    return line


def format_duration(seconds):
    """`1h05m` or `3m07s`; `?` for an unknown (infinite) time."""
    if not math.isfinite(seconds):  # No step applied yet (float16 skips overflows).
        return "?"
    seconds = int(max(seconds, 0))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"

