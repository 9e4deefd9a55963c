"""The example scripts: each one's --help, and one tiny real run.

The scripts run in subprocesses on a tiny MNIST-format set written here
(``--data DIR``), compiled in theanets mode 'python' for speed.
"""

import gzip
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, 'examples')
SCRIPTS = ['mnist-classifier.py', 'mlp-tutorial.py', 'deep-whitened.py',
           'csv-leaky-mse.py', 'autoencoder.py']


def _write_idx(path, array):
    """Write ``array`` (uint8) as a gzipped IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b''.join(
        int(d).to_bytes(4, 'big') for d in array.shape)
    with gzip.open(path, 'wb') as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    """A folder of MNIST-named IDX files: 120 training, 40 test images."""
    folder = tmp_path_factory.mktemp('tiny-mnist')
    rng = np.random.default_rng(0)
    for stem, n in (('train', 120), ('t10k', 40)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 60, (n, 28, 28))
        for i, label in enumerate(labels):  # a bright bar per class
            images[i, 2 + 2 * label:4 + 2 * label, 4:24] = 250
        _write_idx(folder / f'{stem}-images-idx3-ubyte.gz', images)
        _write_idx(folder / f'{stem}-labels-idx1-ubyte.gz', labels)
    return str(folder)


def run(script, *args, mode='python', timeout=300):
    """Run an example script; its CompletedProcess (text output)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    # One BLAS thread: these small products run several times faster so,
    # and far faster when other processes share the cores.
    env.setdefault('OPENBLAS_NUM_THREADS', '1')
    if mode:
        env['THEANETS_MODE'] = mode
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script)] +
                          [str(a) for a in args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize('script', SCRIPTS)
def test_help(script):
    done = run(script, '--help')
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith('usage: ')
    assert '--full' in done.stdout and '--data' in done.stdout


@pytest.mark.parametrize('script, args', [
    ('mnist-classifier.py', ('--max-updates', 8, '--hidden', 6, '--plot',
                             '{tmp}')),
    ('mlp-tutorial.py', ('--max-updates', 8, '--hidden', 6, '--l2', 1e-4)),
    ('deep-whitened.py', ('--max-updates', 4, '--whiten', 'pca')),
    ('csv-leaky-mse.py', ('--max-updates', 8)),
    ('autoencoder.py', ('--max-updates', 6, '--hidden', 9, '--plot',
                        '{tmp}')),
])
def test_tiny_run(tiny, tmp_path, script, args):
    args = [str(a).format(tmp=tmp_path) for a in args]
    done = run(script, '--data', tiny, *args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith('test accuracy: ')
    assert 0 <= float(lines[-1].split()[-1]) <= 1
    assert 'Fashion-MNIST' not in done.stdout  # --data was used
    for name in os.listdir(tmp_path):
        with open(tmp_path / name, 'rb') as handle:
            assert handle.read(4) == b'\x89PNG'
    if '--plot' in args:
        assert len(os.listdir(tmp_path)) >= 2


@pytest.mark.slow
def test_mnist_classifier_default_run():
    """The documented default run (under a minute), on real data."""
    from theanets import datasets
    try:
        datasets.load_fashion_mnist(download=False)
    except datasets.DataNotFoundError:
        pytest.skip('Fashion-MNIST is not installed')
    done = run('mnist-classifier.py', mode=None, timeout=600)
    assert done.returncode == 0, done.stderr
    accuracy = float(done.stdout.splitlines()[-1].split()[-1])
    assert accuracy > (0.8 if 'Fashion-MNIST' in done.stdout else 0.9)
