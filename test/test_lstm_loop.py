"""The fused LSTM loop (:mod:`theanets.backend.lstm`): its C code and its
numpy ``perform`` against a plain numpy reference, finite differences, and
the ``scan`` formulation of the LSTM layer."""

import importlib.util

import numpy as np
import pytest

from theanets import backend, recurrent
from theanets.backend import TT
from theanets.backend.lstm import LSTMLoop, LSTMLoopGrad, lstm_loop
from theanets.layers import recurrent as R

T, B, H = 5, 3, 4  # the default sizes: time steps, batch, units


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _reference(z, b, hh, h0, c0, peep, valid):
    """The documented LSTM equations, one step at a time, in float64."""
    H = hh.shape[0]
    h, c, hs, cs = h0, c0, [], []
    for t in range(len(z)):
        a = z[t] + b + h @ hh
        i = _sig(a[:, :H] + c * peep[0])
        f = _sig(a[:, H:2 * H] + c * peep[1])
        c_new = f * c + i * np.tanh(a[:, 2 * H:3 * H])
        o = _sig(a[:, 3 * H:] + c_new * peep[2])
        keep = valid[t][:, None] != 0
        h = np.where(keep, o * np.tanh(c_new), h)
        c = np.where(keep, c_new, c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def _data(rng, dtype, T=T, B=B, H=H):
    shapes = dict(z=(T, B, 4 * H), b=(4 * H,), hh=(H, 4 * H), h0=(B, H),
                  c0=(B, H), peep=(3, H), wh=(T, B, H), wc=(T, B, H))
    data = {k: rng.normal(size=s).astype(dtype) for k, s in shapes.items()}
    valid = np.ones((T, B), dtype)
    valid[3:, 0] = 0  # a sequence that ends early
    valid[1, 2] = 0   # and a gap (the op allows any pattern)
    data['valid'] = valid
    return data


WRT = ('z', 'b', 'hh', 'h0', 'c0', 'peep')


def _compiled(dtype, peep, masked, mode):
    """``(call, wrt, function)``: ``call(data)`` returns ``[h, c, grads of
    sum(h wh) + sum(c wc) with respect to wrt...]``."""
    v = dict(z=TT.tensor3('z', dtype=dtype), b=TT.vector('b', dtype=dtype),
             peep=TT.matrix('peep', dtype=dtype),
             valid=TT.matrix('valid', dtype=dtype),
             wh=TT.tensor3('wh', dtype=dtype),
             wc=TT.tensor3('wc', dtype=dtype))
    for name in ('hh', 'h0', 'c0'):
        v[name] = TT.matrix(name, dtype=dtype)
    h, c = lstm_loop(v['z'], v['b'], v['hh'], v['h0'], v['c0'],
                     v['peep'] if peep else None,
                     v['valid'] if masked else None)
    loss = (h * v['wh']).sum() + (c * v['wc']).sum()
    wrt = [k for k in WRT if peep or k != 'peep']
    names = wrt + ['wh', 'wc'] + (['valid'] if masked else [])
    fn = backend.compile([v[k] for k in names],
                         [h, c] + backend.grad(loss, [v[k] for k in wrt]),
                         mode=mode)
    return lambda data: fn(*[data[k] for k in names]), wrt, fn


@pytest.mark.parametrize('peep, masked, sizes', [
    (False, False, (T, B, H)), (True, True, (T, B, H)),
    # whole register tiles of the C product (8 rows, 32 columns) and parts
    (False, False, (3, 10, 9)), (True, True, (3, 17, 33))])
def test_c_code_matches_reference_and_perform(peep, masked, sizes, rng):
    data = _data(rng, backend.floatX(), *sizes)
    if not peep:
        data['peep'] = np.zeros_like(data['peep'])
    if not masked:
        data['valid'] = np.ones_like(data['valid'])
    c_fn, wrt, compiled = _compiled(backend.floatX(), peep, masked, 'c')
    py_fn, _, _ = _compiled(backend.floatX(), peep, masked, 'python')
    got, want = c_fn(data), py_fn(data)
    ref = _reference(*(data[k].astype('f8') for k in WRT + ('valid',)))
    for k in range(2):
        assert np.allclose(got[k], ref[k], atol=2e-6)
        assert np.allclose(want[k], ref[k], atol=2e-6)
    for name, a, b in zip(wrt, got[2:], want[2:]):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-5), name
    kinds = {type(n.op) for n in compiled.maker.fgraph.apply_nodes}
    assert LSTMLoop in kinds and LSTMLoopGrad in kinds


@pytest.mark.skipif(importlib.util.find_spec('jax') is None,
                    reason='jax is not installed')
@pytest.mark.parametrize('peep, masked', [(False, False), (True, True)])
def test_jax_translation_matches_perform(peep, masked, rng):
    """A graph holding the loop (built in the c or python mode) compiles in
    the JAX mode too (lax.scan translations) and agrees."""
    data = _data(rng, backend.floatX())
    jax_fn, wrt, _ = _compiled(backend.floatX(), peep, masked, 'jax')
    py_fn, _, _ = _compiled(backend.floatX(), peep, masked, 'python')
    for name, a, b in zip(['h', 'c'] + wrt, jax_fn(data), py_fn(data)):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-5), name


@pytest.mark.parametrize('peep', [False, True])
@pytest.mark.parametrize('masked', [False, True])
def test_gradient_matches_finite_differences(peep, masked, rng):
    data = _data(rng, 'float64')
    if not peep:
        data['peep'] = np.zeros_like(data['peep'])
    if not masked:
        data['valid'] = np.ones_like(data['valid'])
    fn, wrt, _ = _compiled('float64', peep, masked, 'python')
    grads = fn(data)[2:]

    def loss(values):
        hs, cs = _reference(*(values[k] for k in WRT + ('valid',)))
        return (hs * values['wh']).sum() + (cs * values['wc']).sum()

    eps = 1e-6
    for name, grad in zip(wrt, grads):
        numeric = np.zeros_like(grad)
        for idx in np.ndindex(grad.shape):
            values = {k: v.copy() for k, v in data.items()}
            values[name][idx] += eps
            up = loss(values)
            values[name][idx] -= 2 * eps
            numeric[idx] = (up - loss(values)) / (2 * eps)
        assert np.allclose(grad, numeric, rtol=1e-5, atol=1e-6), name


SPECS = [dict(), dict(peepholes=False), dict(direction='backward'),
         dict(mask='in', h_0='learn', c_0='learn'),
         dict(direction='backward', mask='in', peepholes=False)]


@pytest.mark.parametrize('spec', SPECS, ids=lambda s: '-'.join(
    f'{k}={v}' for k, v in s.items()) or 'default')
def test_layer_loop_matches_scan(spec, rng, monkeypatch):
    """The LSTM layer computes the same loss and gradients with the fused
    loop (the 'c' and 'python' modes) as with scan (the other modes)."""
    x = rng.normal(size=(4, 6, 3)).astype('f')
    x[0, 4:] = 0  # end padding, for the mask
    y = rng.normal(size=(4, 6, 2)).astype('f')

    def run():
        net = recurrent.Regressor([3, dict(spec, form='lstm', size=5), 2],
                                  rng=7)
        layer = net.find_layer('hid1')
        for p in layer.params:  # nonzero biases, peepholes, initial states
            p.set_value(p.get_value() + rng.normal(
                scale=0.3, size=p.get_value().shape).astype('f'))
        loss = net.loss()
        fn = backend.compile(net.variables,
                             [loss] + backend.grad(loss, net.params))
        kinds = {type(n.op) for n in fn.maker.fgraph.apply_nodes}
        return fn(x, y), LSTMLoop in kinds

    state = rng.bit_generator.state
    fused, used = run()
    assert used
    rng.bit_generator.state = state
    monkeypatch.setattr(R.LSTM, '_looped', property(lambda self: False))
    scanned, used = run()
    assert not used
    for a, b in zip(fused, scanned):
        assert np.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_bptt_limit_keeps_scan():
    net = recurrent.Regressor([3, dict(form='lstm', size=4, bptt_limit=2), 2])
    assert not net.find_layer('hid1')._looped
    net = recurrent.Regressor([3, dict(form='lstm', size=4), 2])
    assert net.find_layer('hid1')._looped


@pytest.mark.parametrize('mode', ['c', 'python'])
def test_mask_of_another_length_is_refused(mode, rng):
    """A validity mask that does not match (time, n) is an error, not an
    out-of-bounds read."""
    data = _data(rng, backend.floatX())
    fn, _, _ = _compiled(backend.floatX(), True, True, mode)
    data['valid'] = data['valid'][:-1]
    with pytest.raises(ValueError, match='validity mask must be'):
        fn(data)
