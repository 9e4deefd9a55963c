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
