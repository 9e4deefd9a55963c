#!/usr/bin/env python
"""Benchmark theanets against PyTorch eager, numpy and scikit-learn.

    python bench/run.py [--quick] [--threads N] [--modes c,numba,jax]
                        [--json PATH]

Measures, in one process, on the same shapes, data and thread count:
training steps of a ``[784, 100, 10]`` classifier (sgd and nag, batch 32,
128, 512) -- theanets' compiled step called directly and through the full
``net.train`` loop, per compile mode -- against PyTorch eager, a
hand-written numpy step and scikit-learn's ``MLPClassifier.partial_fit``;
the sgemm roofline of the step's five matrix products; an epoch of 60,000
samples; ``predict`` on 10,000; start-up time with an empty and a warm
compile cache; peak memory; and LSTM / conv steps when theanets has those
layers. Prints Markdown tables with ratios (theanets / peer: < 1 means
theanets is faster) and PASS/MISS rows for the targets, and writes the raw
numbers to ``bench/results/<timestamp>.json`` (and ``--json PATH``).

See bench/README.md.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _parse():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--quick', action='store_true',
                   help='fewer repetitions and no cold numba start '
                        '(under 5 minutes on 2 cores)')
    p.add_argument('--threads', type=int, default=1,
                   help='threads for every library (default: 1; see '
                        'bench/README.md)')
    p.add_argument('--modes', default=None,
                   help='theanets compile modes, comma-separated (default: '
                        'c,numba and jax when installed)')
    p.add_argument('--only', default=None,
                   help='run only these sections, comma-separated: '
                        'roofline,steps,epoch,predict,start,memory,layers')
    p.add_argument('--json', default=None, help='also write the JSON here')
    return p.parse_args()


ARGS = _parse() if __name__ == '__main__' else None
THREADS = ARGS.threads if ARGS and ARGS.threads else 1
# Thread counts must be set before numpy, torch, numba or jax load.
for _var in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS',
             'NUMBA_NUM_THREADS'):
    os.environ[_var] = str(THREADS)
if THREADS == 1:
    os.environ['XLA_FLAGS'] = (os.environ.get('XLA_FLAGS', '') +
                               ' --xla_cpu_multi_thread_eigen=false').strip()
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

import layers_bench  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
from timing import measure, summary  # noqa: E402

LR, MOMENTUM = 1e-3, 0.9
BATCHES = (32, 128, 512)
ALGOS = ('sgd', 'nag')
N_TRAIN, N_PREDICT = 60000, 10000


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def _limit_threads(n):
    """Limit every thread pool loaded so far; returns the pools' info."""
    try:
        import scipy.linalg  # noqa: F401  (load scipy's BLAS before limiting)
    except ImportError:
        pass
    try:
        import torch
        torch.set_num_threads(n)
        torch.set_num_interop_threads(n)
    except (ImportError, RuntimeError):
        pass
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        return 'threadpoolctl not installed; set by environment variables'
    threadpool_limits(n)
    return [{k: i.get(k) for k in ('internal_api', 'prefix', 'version',
                                   'num_threads', 'filepath')}
            for i in threadpool_info()]


def _machine():
    cpu = 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    versions = {}
    for name in ('numpy', 'pytensor', 'numba', 'jax', 'torch', 'sklearn',
                 'scipy'):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = None
    try:
        commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'],
                                cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip()
        dirty = bool(subprocess.run(['git', 'status', '--porcelain',
                                     'theanets'], cwd=ROOT,
                                    capture_output=True, text=True,
                                    timeout=10).stdout.strip())
    except (OSError, subprocess.SubprocessError):
        commit, dirty = None, None
    return dict(cpu=cpu, cores=os.cpu_count(), python=platform.python_version(),
                platform=platform.platform(), versions=versions,
                commit=commit, theanets_tree_dirty=dirty)


def _data(n=N_TRAIN, seed=0):
    """MNIST-shaped synthetic data: uniform [0, 1) float32 pixels, int32
    labels (the same arrays for every contender)."""
    rng = np.random.default_rng(seed)
    return (rng.random((n, 784), dtype='float32'),
            rng.integers(0, 10, n).astype('int32'))


# -- theanets ----------------------------------------------------------------

def _theanets_net(theanets, mode, seed=13):
    theanets.config.mode = mode
    return theanets.Classifier([784, (100, 'relu'), 10], rng=seed)


def _train_kwargs(algo, batch, updates):
    kw = dict(algo=algo, learning_rate=LR, batch_size=batch,
              max_updates=updates, validate_every=10**6, progress=False)
    if algo == 'nag':
        kw['momentum'] = MOMENTUM
    return kw


def _theanets_step(net, algo):
    """The compiled training function of ``net``'s ``algo`` optimizer."""
    for key, opt in net._optimizers.items():
        if key[0] == algo:
            return opt._functions()[0]
    raise KeyError(algo)


def _step_call(fn, mode, *args):
    """A call of the compiled step that returns when its work is done.

    JAX dispatches asynchronously: wait for the outputs and for the
    updated shared variables, or the time measured is only the dispatch.
    """
    if mode != 'jax':
        return lambda: fn(*args)
    import jax
    containers = list(fn.input_storage)

    def call():
        out = fn(*args)
        jax.block_until_ready((out, [c.storage[0] for c in containers]))
    return call


def _modes(theanets, wanted):
    if wanted:
        return [m.strip() for m in wanted.split(',') if m.strip()]
    modes = ['c', 'numba']
    try:
        import jax  # noqa: F401
        modes.append('jax')
    except ImportError:
        pass
    return modes


# -- sections ----------------------------------------------------------------

def bench_roofline(quick):
    out = {}
    for b in BATCHES:
        run, flops = peers.step_products(b)
        t = summary(measure({'sgemm': run}, quick=quick)['sgemm'])
        t['gflops'] = flops / t['median_ms'] / 1e6
        t['flops'] = flops
        out[b] = t
        log(f'  sgemm products b={b}: {t["median_ms"]:.3f} ms '
            f'({t["gflops"]:.1f} GFLOP/s)')
    return out


def _torch_loop(tp, x, y, b, seed=1):
    """One pass of PyTorch steps over ``(x, y)`` in shuffled batches."""
    torch = tp['torch']
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.astype('int64'))
    n = len(x)
    gen = torch.Generator().manual_seed(seed)

    def loop():
        order = torch.randperm(n, generator=gen)
        xs, ys = tx[order], ty[order]
        for i in range(0, n, b):
            tp['step'](xs[i:i + b], ys[i:i + b])
    return loop


def _numpy_loop(mlp, x, y, b, seed=1):
    """One pass of numpy steps over ``(x, y)`` in shuffled batches."""
    rng = np.random.default_rng(seed)
    n = len(x)

    def loop():
        order = rng.permutation(n)
        xs, ys = x[order], y[order]
        for i in range(0, n, b):
            mlp.step(xs[i:i + b], ys[i:i + b])
    return loop


def bench_steps(theanets, modes, x, y, quick, notes):
    """ms per training step of every contender, per algorithm and batch."""
    results = []
    loop_samples = 15000 if quick else N_TRAIN
    nets = {}
    for algo in ALGOS:
        for b in BATCHES:
            xb, yb = x[:b].copy(), y[:b].copy()
            loop_batches = loop_samples // b
            xl, yl = x[:b * loop_batches], y[:b * loop_batches]
            valid = (x[:b], y[:b])
            contenders, per_call = {}, {}
            for mode in modes:
                key = (mode, algo)
                if key not in nets:
                    net = _theanets_net(theanets, mode)
                    t0 = time.perf_counter()
                    net.train((xb, yb), valid, **_train_kwargs(algo, b, 1))
                    log(f'  compiled {mode}/{algo} in '
                        f'{time.perf_counter() - t0:.1f}s')
                    nets[key] = net
                net = nets[key]
                fn = _theanets_step(net, algo)
                contenders[f'theanets-{mode} step'] = _step_call(
                    fn, mode, xb, yb)
                contenders[f'theanets-{mode} train'] = (
                    lambda net=net: net.train(
                        (xl, yl), valid,
                        **_train_kwargs(algo, b, loop_batches)))
                per_call[f'theanets-{mode} train'] = loop_batches
            tp = peers.make_torch(algo, LR, MOMENTUM)
            if tp is not None:
                tx, ty = tp['tensor'](xb), tp['tensor'](yb.astype('int64'))
                contenders['torch'] = lambda tp=tp, tx=tx, ty=ty: \
                    tp['step'](tx, ty)
            mlp = peers.make_numpy(algo, LR, MOMENTUM)
            contenders['numpy'] = lambda mlp=mlp: mlp.step(xb, yb)
            # the peers' own loops over the same samples, shuffled per pass
            if tp is not None:
                contenders['torch loop'] = _torch_loop(tp, xl, yl, b)
                per_call['torch loop'] = loop_batches
            contenders['numpy loop'] = _numpy_loop(
                peers.make_numpy(algo, LR, MOMENTUM), xl, yl, b)
            per_call['numpy loop'] = loop_batches
            sk = peers.make_sklearn(algo, LR, MOMENTUM, b)
            if sk is not None:
                with warnings.catch_warnings():
                    warnings.simplefilter('ignore')
                    sk.partial_fit(xb, yb, classes=np.arange(10))
                contenders['sklearn'] = lambda sk=sk: sk.partial_fit(xb, yb)
            # the roofline again, in the same rounds as the steps
            contenders['sgemm'] = peers.step_products(b)[0]
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                times = measure(contenders, quick=quick, per_call=per_call)
            for name, ts in times.items():
                s = summary(ts)
                s.update(algo=algo, batch=b, contender=name)
                results.append(s)
                log(f'  {algo} b={b:4d} {name:22s} {s["median_ms"]:8.3f} ms')
    if peers.make_torch('sgd', LR, MOMENTUM) is None:
        notes.append('PyTorch is not installed: its columns are skipped.')
    if peers.make_sklearn('sgd', LR, MOMENTUM, 32) is None:
        notes.append('scikit-learn is not installed: its column is skipped.')
    return results, nets


def bench_epoch(theanets, modes, x, y, quick):
    """Seconds for one epoch of 60,000 samples at batch 128 (nag)."""
    b, n = 128, len(x)
    updates = -(-n // b)
    valid = (x[:b], y[:b])
    contenders = {}
    for mode in modes:
        net = _theanets_net(theanets, mode)
        net.train((x[:b], y[:b]), valid, **_train_kwargs('nag', b, 1))
        contenders[f'theanets-{mode}'] = lambda net=net: net.train(
            (x, y), valid, **_train_kwargs('nag', b, updates))
    tp = peers.make_torch('nag', LR, MOMENTUM)
    if tp is not None:
        contenders['torch'] = _torch_loop(tp, x, y, b)
    contenders['numpy'] = _numpy_loop(peers.make_numpy('nag', LR, MOMENTUM),
                                      x, y, b)
    sk = peers.make_sklearn('nag', LR, MOMENTUM, b)
    if sk is not None:
        sk.set_params(shuffle=True)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sk.partial_fit(x[:b], y[:b], classes=np.arange(10))
        contenders['sklearn'] = lambda: sk.partial_fit(x, y)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        times = measure(contenders, quick=quick, rounds=1 if quick else 3,
                        min_reps=1, round_s=0)
    out = {}
    for name, ts in times.items():
        out[name] = summary(ts)
        log(f'  epoch {name:16s} {out[name]["median_ms"] / 1e3:7.2f} s')
    return out


def bench_predict(theanets, modes, x, nets, quick):
    """ms for predicting 10,000 samples."""
    xp = x[:N_PREDICT].copy()
    contenders = {}
    for mode in modes:
        net = nets.get((mode, 'nag')) or _theanets_net(theanets, mode)
        theanets.config.mode = mode
        net.predict(xp[:10])
        contenders[f'theanets-{mode}'] = lambda net=net: net.predict(xp)
    tp = peers.make_torch('nag', LR, MOMENTUM)
    if tp is not None:
        tx = tp['tensor'](xp)
        contenders['torch'] = lambda: tp['predict'](tx)
    mlp = peers.make_numpy('nag', LR, MOMENTUM)
    contenders['numpy'] = lambda: mlp.predict(xp)
    sk = peers.make_sklearn('nag', LR, MOMENTUM, 128)
    if sk is not None:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            sk.partial_fit(xp[:128], np.arange(128) % 10,
                           classes=np.arange(10))
        contenders['sklearn'] = lambda: sk.predict(xp)
    times = measure(contenders, quick=quick)
    out = {}
    for name, ts in times.items():
        out[name] = summary(ts)
        log(f'  predict {name:16s} {out[name]["median_ms"]:8.2f} ms')
    return out


def _child(args, env=None, timeout=900):
    full_env = dict(os.environ)
    full_env.update(env or {})
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.join(HERE, 'child.py')] +
                          list(args), capture_output=True, text=True,
                          env=full_env, timeout=timeout)
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise RuntimeError(f'child {args} failed:\n{proc.stderr[-3000:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result['process_s'] = wall
    return result


def bench_start(modes, quick, notes):
    """Seconds from import to the first training step, cold and warm cache."""
    out = {}
    for mode in modes:
        if quick and mode != 'c':
            notes.append(f'--quick: start-up of mode {mode!r} not measured')
            continue
        tmp = tempfile.mkdtemp(prefix='theanets-bench-')
        env = {'PYTENSOR_FLAGS': f'base_compiledir={tmp}/pytensor',
               'NUMBA_CACHE_DIR': f'{tmp}/numba',
               'THEANETS_MODE': mode}
        try:
            runs = [_child(['start', mode], env) for _ in range(3 if not quick
                                                                else 2)]
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        warm = sorted(runs[1:], key=lambda r: r['first_step_s'])
        out[mode] = dict(cold=runs[0], warm=warm[len(warm) // 2],
                         warm_runs=[r['first_step_s'] for r in runs[1:]])
        log(f'  start {mode}: cold {runs[0]["first_step_s"]:.1f}s, warm '
            f'{out[mode]["warm"]["first_step_s"]:.1f}s')
    return out


def bench_memory(quick):
    """Peak memory of one epoch in a subprocess; float32 twice in a full
    run (the larger peak is kept, all are recorded), float64 once."""
    out = {}
    for dtype in ('float32',) if quick else ('float32', 'float64'):
        runs = [_child(['memory', dtype], {'THEANETS_MODE': 'c'})
                for _ in range(2 if dtype == 'float32' and not quick else 1)]
        r = max(runs, key=lambda r: r['peak_mb'])
        r['peaks_mb'] = [run['peak_mb'] for run in runs]
        out[dtype] = r
        log(f'  memory {dtype}: peak {r["peak_mb"]:.0f} MB '
            f'({", ".join(f"{p:.0f}" for p in r["peaks_mb"])}), data '
            f'{r["data_mb"]:.0f} MB')
    return out


def main(args):
    started = time.time()
    notes = []
    sections = set((args.only or 'roofline,steps,epoch,predict,start,memory,'
                    'layers').split(','))
    import theanets
    from theanets import backend
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        blas = backend.blas_status()
    modes = _modes(theanets, args.modes)
    pools = _limit_threads(THREADS)
    meta = _machine()
    meta.update(threads=THREADS, thread_pools=pools, quick=args.quick,
                modes=modes, load_start=os.getloadavg(),
                pytensor_blas_ldflags=blas or "numpy's BLAS (C API)",
                date=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
                command=' '.join(['python', 'bench/run.py'] + sys.argv[1:]))
    log(f'theanets bench: {meta["cpu"]}, {THREADS} threads, modes {modes}, '
        f'load {meta["load_start"]}')
    res = dict(meta=meta, notes=notes)
    x, y = _data()
    nets = {}
    if 'roofline' in sections:
        log('sgemm roofline')
        res['roofline'] = bench_roofline(args.quick)
    if 'steps' in sections:
        log('training steps')
        res['steps'], nets = bench_steps(theanets, modes, x, y, args.quick,
                                         notes)
    if 'epoch' in sections:
        log('one epoch')
        res['epoch'] = bench_epoch(theanets, modes, x, y, args.quick)
    if 'predict' in sections:
        log('predict')
        res['predict'] = bench_predict(theanets, modes, x, nets, args.quick)
    if 'layers' in sections:
        log('LSTM and conv layers')
        res['layers'] = layers_bench.run(theanets, args.quick, notes)
    if 'start' in sections:
        log('start-up')
        res['start'] = bench_start(modes, args.quick, notes)
    if 'memory' in sections:
        log('memory')
        res['memory'] = bench_memory(args.quick)
    meta['load_end'] = os.getloadavg()
    meta['seconds'] = time.time() - started
    res['targets'] = report.targets(res)
    text = report.markdown(res)
    print(text)
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    stamp = time.strftime('%Y%m%d-%H%M%S')
    paths = [os.path.join(HERE, 'results', f'{stamp}.json')]
    if args.json:
        paths.append(args.json)
    for path in paths:
        with open(path, 'w') as f:
            json.dump(res, f, indent=1, default=_jsonable)
        log(f'wrote {path}')


def _jsonable(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, tuple):
        return list(value)
    return str(value)


if __name__ == '__main__':
    main(ARGS)
