"""The LSTM step of bench/layers_bench.py in one compile mode, with a
fixed number of time steps (which the JAX mode needs), against PyTorch
eager's ``nn.LSTM`` in the same process.

    OPENBLAS_NUM_THREADS=1 XLA_FLAGS=--xla_cpu_multi_thread_eigen=false \\
        python bench/lstm_modes.py jax|c|numba [rounds]

Prints the median ms of ``rounds`` (default 9) interleaved steps of each,
their ratio, the median of the rounds' own ratios, and the C mode's BLAS.
"""

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import peers  # noqa: E402
import theanets  # noqa: E402
from theanets import recurrent  # noqa: E402

SIZES = dict(batch=32, steps=50, nin=128, units=128, nout=10)


def theanets_step(mode, c=SIZES, seed=0):
    """The compiled nag step of an LSTM classifier in ``mode``."""
    theanets.config.mode = mode
    rng = np.random.default_rng(seed)
    net = recurrent.Classifier([
        (c['steps'], c['nin']),
        dict(form='lstm', size=c['units'], peepholes=False), c['nout']])
    x = rng.standard_normal((c['batch'], c['steps'], c['nin']), 'f4')
    y = rng.integers(0, c['nout'], (c['batch'], c['steps'])).astype('int32')
    net.train((x, y), algo='nag', learning_rate=1e-3, momentum=0.9,
              batch_size=len(x), max_updates=1, validate_every=10**6,
              progress=False)
    fn = next(o for k, o in net._optimizers.items()
              if k[0] == 'nag')._functions()[0]
    if mode != 'jax':
        return lambda: fn(x, y)
    import jax

    def step():  # JAX dispatches asynchronously: wait for the results
        out = fn(x, y)
        jax.block_until_ready((out, [s.storage[0] for s in fn.input_storage]))
    return step


def main(mode, rounds=9):
    step, peer = theanets_step(mode), peers.torch_lstm()
    import torch
    torch.set_num_threads(1)
    for _ in range(5):
        step()
        peer()
    mine, theirs = [], []
    for _ in range(rounds):
        for fn, times in ((step, mine), (peer, theirs)):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    a, b = np.median(mine) * 1e3, np.median(theirs) * 1e3
    paired = np.median(np.array(mine) / np.array(theirs))
    print(f'{mode}: LSTM step theanets {a:.1f} ms, torch {b:.1f} ms, '
          f'ratio {a / b:.2f} (median of {rounds} paired rounds {paired:.2f}; '
          f'BLAS {theanets.backend.blas_status() or "numpy"})')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'c',
         int(sys.argv[2]) if len(sys.argv) > 2 else 9)
