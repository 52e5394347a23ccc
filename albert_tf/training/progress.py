"""Progress lines with an ETA for long evaluation and prediction passes, as the
trainer prints for training."""

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
    from albert_tf.training.trainer import _format_duration  # trainer imports this module

    rate = done / elapsed if elapsed > 0 else float("inf")
    line = f"{what}: batch {done}" + (f"/{total}" if total else "")
    line += f" | {rate:.2f} batches/s"
    if total:
        line += f" | ETA {_format_duration((total - done) / rate if rate > 0 else float('inf'))}"
    return line
