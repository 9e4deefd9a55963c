"""Interleaved, warmed-up timing of several contenders.

The machine the benchmark runs on is shared and noisy, so contenders are
timed in rounds: every round times each contender in turn for about
``round_s`` seconds, and each result is the median over all rounds. A
burst of load then hits every contender alike instead of one of them.
"""

import time

import numpy as np

__all__ = ['measure', 'summary']


def _calibrate(fn, warmup_s, min_calls):
    """Warm ``fn`` up; return the seconds of its last call."""
    start = time.perf_counter()
    calls = 0
    while calls < min_calls or time.perf_counter() - start < warmup_s:
        t0 = time.perf_counter()
        fn()
        last = time.perf_counter() - t0
        calls += 1
    return last


def measure(contenders, quick=False, per_call=None, rounds=None,
            round_s=None, min_reps=3):
    """Time each contender, interleaved in rounds.

    Parameters
    ----------
    contenders : dict
        Name -> zero-argument callable.
    quick : bool
        Fewer rounds and shorter warm-ups.
    per_call : dict, optional
        Name -> steps one call makes (the times are divided by it).
    rounds : int, optional
        Default: 3 (quick) or 7.
    round_s : float, optional
        Seconds per contender and round; default 0.1 (quick) or 0.3.
    min_reps : int, default=3
        Calls per contender and round at least (1 for those in
        ``per_call``, which are long loops).

    Returns
    -------
    dict
        Name -> list of milliseconds per step, one per timed call.
    """
    per_call = per_call or {}
    rounds = rounds or (3 if quick else 7)
    round_s = (0.1 if quick else 0.3) if round_s is None else round_s
    warmup_s = 0.05 if quick else 0.3
    reps = {}
    for name, fn in contenders.items():
        least = 1 if name in per_call else min_reps
        last = _calibrate(fn, warmup_s if least > 1 else 0,
                          3 if least > 1 else 1)
        reps[name] = max(least, int(round_s / max(last, 1e-7)))
    times = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            steps = per_call.get(name, 1)
            out = times[name]
            for _ in range(reps[name]):
                t0 = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t0) * 1e3 / steps)
    return times


def summary(times_ms):
    """Median, quartiles, minimum and count of a list of milliseconds."""
    a = np.asarray(times_ms, dtype=float)
    p25, med, p75 = np.percentile(a, [25, 50, 75])
    return dict(median_ms=float(med), p25_ms=float(p25), p75_ms=float(p75),
                min_ms=float(a.min()), n=int(a.size))
