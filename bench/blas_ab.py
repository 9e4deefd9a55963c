"""The C mode's compiled step with and without a linked BLAS.

    python bench/blas_ab.py blas      # the BLAS theanets links (default)
    python bench/blas_ab.py noblas    # as if scipy-openblas32 were missing

Prints the median ms of the compiled training step of a [784, 100, 10]
classifier (sgd, nag) at batch 32, 128 and 512, called in a loop on one
batch like ``bench/run.py``'s ``step`` column. Run both with
``OPENBLAS_NUM_THREADS=1`` a few times, alternating, and compare.
"""
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import theanets  # noqa: E402
from theanets.backend import cmode  # noqa: E402


def main(which):
    if which == 'noblas':
        cmode._wheel_blas = lambda: ('', '')
    warnings.simplefilter('ignore')
    rng = np.random.default_rng(0)
    x = rng.random((512, 784), dtype='float32')
    y = rng.integers(0, 10, 512).astype('int32')
    out = []
    for algo in ('sgd', 'nag'):
        net = theanets.Classifier([784, (100, 'relu'), 10])
        kw = dict(momentum=0.9) if algo == 'nag' else {}
        net.train((x, y), algo=algo, learning_rate=1e-3, batch_size=128,
                  max_updates=1, validate_every=1000, progress=False, **kw)
        step = next(iter(net._optimizers.values()))._functions()[0]
        for b in (32, 128, 512):
            xb, yb = x[:b].copy(), y[:b].copy()
            for _ in range(50):
                step(xb, yb)
            times = []
            for _ in range(9):
                start = time.perf_counter()
                for _ in range(100):
                    step(xb, yb)
                times.append((time.perf_counter() - start) / 100 * 1e3)
            out.append(f'{algo} b={b} {sorted(times)[4]:.3f}')
    print(which, ' | '.join(out), '| blas linked:', bool(cmode.blas_status()))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'blas')
