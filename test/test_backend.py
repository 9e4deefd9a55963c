"""The backend: floatX, shared variables, and every compile mode agreeing.

This is the one test module that compiles in the ``c``, ``numba`` and
``jax`` modes (the rest of the suite uses ``python`` for speed), so it pays
the C compiler's cold-cache cost once.
"""

import importlib.util

import numpy as np
import pytest

import theanets
from theanets import backend


def test_floatx_is_float32_by_default():
    assert backend.floatX() == 'float32'
    assert backend.cast([1, 2]).dtype == np.float32
    assert backend.shared(np.arange(3)).dtype == 'float32'


def test_shared_like_copies_shape_and_dtype():
    param = backend.shared(np.ones((2, 3)), name='hid1.w')
    state = backend.shared_like(param, 'vel', value=0.5)
    assert state.name == 'hid1.w_vel'
    assert state.get_value().shape == (2, 3)
    assert state.dtype == param.dtype
    assert np.all(state.get_value() == 0.5)


def test_config_mode_is_checked():
    with pytest.raises(ValueError, match="unknown compile mode 'gpu'.*jax"):
        theanets.config.mode = 'gpu'


def test_blas_status_returns_flags_or_warns_once():
    flags = backend.blas_status()
    assert isinstance(flags, str)
    assert backend.blas_status() == flags  # checked once per process


def test_mkl_wheel_is_linked_through_a_link_named_for_the_linker(
        tmp_path, monkeypatch):
    """The ``mkl`` wheel ships ``libmkl_rt.so.2`` only: the C mode links
    it through a ``libmkl_rt.so`` link in PyTensor's compile directory."""
    from importlib import metadata

    from theanets.backend import cmode

    lib = tmp_path / 'lib' / 'libmkl_rt.so.2'
    lib.parent.mkdir()
    lib.write_bytes(b'')

    class File:
        name = 'libmkl_rt.so.2'

        def locate(self):
            return str(lib)

    def files(name):
        if name != 'mkl':
            raise metadata.PackageNotFoundError(name)
        return [File()]

    monkeypatch.setattr(metadata, 'files', files)
    monkeypatch.setattr(cmode.sys, 'platform', 'linux')
    cache = tmp_path / 'cache'
    flags = cmode._mkl_wheel(str(cache))
    link = cache / 'theanets-mkl' / 'libmkl_rt.so'
    assert flags == f'-L{link.parent} -lmkl_rt -Wl,-rpath,{lib.parent}'
    assert link.resolve() == lib.resolve()
    assert cmode._mkl_wheel(str(cache)) == flags  # the link is reused

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, 'files', missing)
    assert cmode._mkl_wheel(str(cache)) == ''


def _available(mode):
    if mode == 'jax':
        return importlib.util.find_spec('jax') is not None
    if mode == 'numba':
        return importlib.util.find_spec('numba') is not None
    return True


@pytest.fixture(scope='module')
def reference():
    """Predictions and one training step in the python mode."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype('f')
    y = (x[:, 0] > 0).astype('i')
    return x, y, _run('python', x, y)


def _run(mode, x, y):
    saved = theanets.config.mode
    theanets.config.mode = mode
    try:
        net = theanets.Classifier([5, 4, 2], rng=1)
        before = net.predict_proba(x)
        net.train((x, y), algo='nag', learning_rate=0.1, momentum=0.5,
                  max_updates=2, batch_size=16, validate_every=1)
        return before, net.find('hid1', 'w').get_value(), net.predict_proba(x)
    finally:
        theanets.config.mode = saved


@pytest.mark.parametrize('mode', ['c', 'numba', 'jax'])
def test_modes_agree(mode, reference):
    if not _available(mode):
        pytest.skip(f'{mode} is not installed (pip install "theanets[jax]")')
    x, y, expected = reference
    for got, want in zip(_run(mode, x, y), expected):
        assert np.allclose(got, want, atol=1e-5)


def test_c_mode_inlines_softmax_ops():
    """PyTensor 3's softmax ops have no C code: the C mode inlines them."""
    from pytensor.compile.builders import OpFromGraph
    x = backend.TT.matrix('x')
    fn = backend.compile([x], [backend.TT.special.softmax(x, axis=-1),
                               backend.TT.special.log_softmax(x, axis=-1)],
                         mode='c')
    nodes = fn.maker.fgraph.toposort()
    if backend.cmode.status()['inline_softmax']:
        assert not [n for n in nodes if isinstance(n.op, OpFromGraph)]
    z = np.array([[1.0, 2.0, 30.0], [-5.0, 0.0, 5.0]], 'f')
    e = np.exp(z - z.max(axis=1, keepdims=True))
    want = e / e.sum(axis=1, keepdims=True)
    got, logs = fn(z)
    assert np.allclose(got, want, atol=1e-6)
    assert np.allclose(logs, np.log(want), atol=1e-5)


def test_c_mode_matrix_products_match_numpy():
    """Whatever BLAS the set-up linked (a wheel's, with prefixed symbols,
    or none), the C mode's products are numpy's."""
    a, b = backend.TT.matrix('a'), backend.TT.matrix('b')
    fn = backend.compile([a, b], [backend.TT.dot(a, b),
                                  backend.TT.dot(a, b) * 2 + a.sum()],
                         mode='c')
    rng = np.random.default_rng(3)
    x, y = rng.random((7, 5), 'f'), rng.random((5, 3), 'f')
    prod, scaled = fn(x, y)
    assert np.allclose(prod, x @ y, atol=1e-5)
    assert np.allclose(scaled, 2 * (x @ y) + x.sum(), atol=1e-4)


def test_c_setup_status_is_consistent():
    status = backend.cmode.status()
    assert status['blas'] == backend.blas_status()
    if status['prelude']:
        assert f"-include {status['prelude']}" in status['cxxflags']
        with open(status['prelude']) as handle:
            text = handle.read()
        assert '#include <Python.h>' in text
        if 'scipy_openblas' in status['blas']:
            assert '#define sgemm_ scipy_sgemm_' in text


def test_prelude_text_maps_a_prefix():
    text = backend.cmode._prelude_text('scipy_')
    assert '#define dgemm_ scipy_dgemm_' in text
    lines = text.splitlines()
    assert lines.index('#include <Python.h>') > lines.index(
        '#define sgemv_ scipy_sgemv_')
    assert '#define' not in backend.cmode._prelude_text('')


def test_known_value_reads_runtime_settings():
    import pytensor
    with pytensor.config.change_flags(gcc__cxxflags='-O2'):
        assert backend.cmode._known_value('gcc__cxxflags') == '-O2'


def test_malloc_tuning_is_skipped_when_the_user_set_glibc_variables(
        monkeypatch):
    monkeypatch.setenv('MALLOC_MMAP_THRESHOLD_', '131072')
    assert backend.cmode._tune_malloc() is False
    monkeypatch.delenv('MALLOC_MMAP_THRESHOLD_')
    monkeypatch.setenv('THEANETS_MALLOC', '0')
    assert backend.cmode._tune_malloc() is False


def test_jax_mode_keeps_a_persistent_cache():
    if not _available('jax'):
        pytest.skip('jax is not installed')
    import jax
    directory = backend._jax_cache()
    assert directory and jax.config.jax_compilation_cache_dir == directory
    assert backend._jax_cache() == directory  # set up once


def test_c_mode_compiles_without_the_precompiled_header(tmp_path):
    """THEANETS_PRELUDE=0, in a new process with an empty compile cache:
    no precompiled header, and the products still match numpy (with the
    wheel's BLAS the prelude still maps its prefixed names)."""
    import json
    import os
    import subprocess
    import sys
    script = (
        'import json, numpy as np\n'
        'from theanets import backend\n'
        'a, b = backend.TT.matrix("a"), backend.TT.matrix("b")\n'
        'fn = backend.compile([a, b], backend.TT.dot(a, b), mode="c")\n'
        'x = np.arange(6, dtype="f").reshape(2, 3)\n'
        'ok = bool(np.allclose(fn(x, x.T), x @ x.T))\n'
        'print(json.dumps(dict(backend.cmode.status(), ok=ok)))\n')
    env = dict(os.environ, THEANETS_PRELUDE='0',
               PYTENSOR_FLAGS=f'base_compiledir={tmp_path}')
    done = subprocess.run([sys.executable, '-c', script], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status['ok'] and not status['precompiled']
    if 'scipy_openblas' in status['blas']:
        with open(status['prelude']) as handle:
            assert '#define sgemm_ scipy_sgemm_' in handle.read()
    else:
        assert not status['prelude']  # nothing to map, nothing to include
    assert list(tmp_path.glob('*/tmp*/*.so'))  # compiled in the new cache
