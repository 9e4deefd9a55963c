"""Measurements that need a fresh process; run by ``bench/run.py``.

``python bench/child.py start MODE``
    Seconds from ``import theanets`` to the end of the first training step
    (``net.train`` with ``max_updates=1``, which compiles the training and
    the evaluation functions) in compile mode MODE, and the CPU seconds
    spent meanwhile (this process and the compiler processes it ran), which
    show how much of the wall time a busy machine added. The compile caches are
    whatever ``PYTENSOR_FLAGS=base_compiledir=...`` and ``NUMBA_CACHE_DIR``
    in the environment say.
``python bench/child.py memory DTYPE``
    Peak resident memory (``VmHWM``) of one epoch of training on 60,000 x 784 samples
    of DTYPE (float32 or float64) with int64 labels, at batch 128.

Each prints one JSON object on its last line of output.
"""

import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))


def _maxrss_mb():
    """ru_maxrss in MB (KiB on Linux). It can include the RSS of the parent
    at fork time (Linux carries it across exec), so peak_mb uses VmHWM."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _peak_mb():
    """This process's peak resident memory (VmHWM), in MB."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return _maxrss_mb()


def _rss_mb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20


def _cpu_s():
    """CPU seconds (user + system) of this process and its finished
    children (the C compiler's runs)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def start(mode):
    c0 = _cpu_s()
    t0 = time.perf_counter()
    import theanets
    t_import = time.perf_counter() - t0
    import numpy as np
    theanets.config.mode = mode
    rng = np.random.default_rng(0)
    x = rng.random((256, 784), dtype='float32')
    y = rng.integers(0, 10, 256).astype('int32')
    net = theanets.Classifier([784, (100, 'relu'), 10])
    net.train((x, y), algo='nag', learning_rate=1e-3, momentum=0.9,
              batch_size=128, max_updates=1, validate_every=1000,
              progress=False)
    total = time.perf_counter() - t0
    return dict(mode=mode, import_s=t_import, first_step_s=total,
                cpu_s=_cpu_s() - c0)


def memory(dtype):
    import numpy as np
    base = _rss_mb()
    import theanets
    after_import = _rss_mb()
    rng = np.random.default_rng(0)
    n, nin = 60000, 784
    x = np.empty((n, nin), dtype)
    for i in range(0, n, 10000):  # no float64 temporaries of the whole set
        x[i:i + 10000] = rng.random((min(10000, n - i), nin), dtype='float32')
    y = rng.integers(0, 10, n)  # int64, as numpy makes them
    data_mb = (x.nbytes + y.nbytes) / 2**20
    before_train = _rss_mb()
    net = theanets.Classifier([784, (100, 'relu'), 10])
    t0 = time.perf_counter()
    net.train((x, y), algo='nag', learning_rate=1e-3, momentum=0.9,
              batch_size=128, max_updates=-(-n // 128), validate_every=1000,
              progress=False)
    seconds = time.perf_counter() - t0
    peak = _peak_mb()
    return dict(dtype=dtype, data_mb=data_mb, python_mb=base,
                ru_maxrss_mb=_maxrss_mb(),
                after_import_mb=after_import, before_train_mb=before_train,
                peak_mb=peak, overhead_mb=peak - data_mb,
                train_s=seconds, mode=theanets.config.mode)


if __name__ == '__main__':
    task, arg = sys.argv[1], sys.argv[2]
    result = {'start': start, 'memory': memory}[task](arg)
    print(json.dumps(result))
