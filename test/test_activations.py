"""Activation functions: values against numpy, specs, registry."""

import types

import numpy as np
import pytest

from theanets import activations, backend
from theanets.backend import TT
from theanets.util import ConfigurationError

SIZE = 4
X = np.array([[-3.0, -0.5, 0.0, 0.7],
              [1.5, 2.0, -1.2, 0.3],
              [-0.2, 5.0, 0.9, -4.0]])


def layer(name='hid1', size=SIZE):
    return types.SimpleNamespace(name=name, size=size)


def _softmax(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _z(x):
    return (x - x.mean(-1, keepdims=True)) / (x.std(-1, keepdims=True) + 1e-7)


def _elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


EXPECTED = {
    'linear': lambda x: x,
    'identity': lambda x: x,
    'sigmoid': lambda x: 1 / (1 + np.exp(-x)),
    'logistic': lambda x: 1 / (1 + np.exp(-x)),
    'tanh': np.tanh,
    'softmax': _softmax,
    'softplus': lambda x: np.log1p(np.exp(x)),
    'softsign': lambda x: x / (1 + abs(x)),
    'relu': lambda x: np.maximum(0, x),
    'rect:min': lambda x: np.maximum(0, x),
    'rect:max': lambda x: np.minimum(1, x),
    'rect:minmax': lambda x: np.clip(x, 0, 1),
    'trel': lambda x: np.clip(x, 0, 1),
    'trec': lambda x: np.where(x > 1, x, 0),
    'tlin': lambda x: np.where(abs(x) > 1, x, 0),
    'leaky_relu': lambda x: np.where(x > 0, x, 0.01 * x),
    'lrelu': lambda x: np.where(x > 0, x, 0.01 * x),
    'leaky relu': lambda x: np.where(x > 0, x, 0.01 * x),
    'leaky_relu:0.2': lambda x: np.where(x > 0, x, 0.2 * x),
    'elu': _elu,
    'selu': lambda x: 1.0507009873554805 * np.where(
        x > 0, x, 1.6732632423543772 * np.expm1(np.minimum(x, 0))),
    'norm:mean': lambda x: x - x.mean(-1, keepdims=True),
    'norm:dc': lambda x: x - x.mean(-1, keepdims=True),
    'norm:max': lambda x: x / (abs(x).max(-1, keepdims=True) + 1e-7),
    'norm:std': lambda x: x / (x.std(-1, keepdims=True) + 1e-7),
    'norm:z': _z,
    'prelu': lambda x: np.where(x > 0, x, 0.1 * x),
    'lgrelu': lambda x: np.where(x > 0, x, 0.1 * x),
    'relu+norm:z': lambda x: _z(np.maximum(0, x)),
    'norm:z+relu': lambda x: np.maximum(0, _z(x)),
    'tanh+rect:min+norm:mean': lambda x: (
        np.maximum(0, np.tanh(x)) -
        np.maximum(0, np.tanh(x)).mean(-1, keepdims=True)),
}


@pytest.fixture(scope='module')
def computed():
    """All activations (and a 3-D input) evaluated in one function."""
    x = TT.matrix('x')
    x3 = TT.tensor3('x3')
    acts = {name: activations.build(name, layer()) for name in EXPECTED}
    maxout = activations.build('maxout:3', layer())
    names = sorted(EXPECTED)
    exprs = [acts[name](x) for name in names]
    exprs += [acts['softmax'](x3), acts['norm:z'](x3), maxout(x),
              maxout(x3), acts['prelu'](x3)]
    fn = backend.compile([x, x3], exprs, mode='python')
    values = fn(backend.cast(X), backend.cast(np.stack([X, -X])))
    result = dict(zip(names, values[:len(names)]))
    for key, value in zip(['softmax3', 'norm:z3', 'maxout', 'maxout3',
                           'prelu3'], values[len(names):]):
        result[key] = value
    result['_maxout'] = maxout
    return result


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_values_match_numpy(computed, name):
    got = computed[name]
    assert got.dtype == backend.floatX()
    assert got.shape == X.shape
    np.testing.assert_allclose(got, EXPECTED[name](X), rtol=1e-5, atol=1e-5)


def test_last_axis_on_3d_input(computed):
    x3 = np.stack([X, -X])
    np.testing.assert_allclose(computed['softmax3'], _softmax(x3), rtol=1e-5)
    np.testing.assert_allclose(computed['norm:z3'], _z(x3), rtol=1e-4,
                               atol=1e-5)
    np.testing.assert_allclose(computed['prelu3'],
                               np.where(x3 > 0, x3, 0.1 * x3), rtol=1e-6)


def test_maxout_values(computed):
    act = computed['_maxout']
    slope = act.slope.get_value()
    intercept = act.intercept.get_value()
    assert slope.shape == intercept.shape == (SIZE, 3)
    expect = (X[..., None] * slope + intercept).max(axis=-1)
    np.testing.assert_allclose(computed['maxout'], expect, rtol=1e-5)
    x3 = np.stack([X, -X])
    expect3 = (x3[..., None] * slope + intercept).max(axis=-1)
    np.testing.assert_allclose(computed['maxout3'], expect3, rtol=1e-5)


def test_softmax_is_stable():
    x = TT.matrix('x')
    fn = backend.compile([x], activations.build('softmax', layer())(x),
                         mode='python')
    out = fn(backend.cast([[1000.0, 0.0, -1000.0, 999.0]]))
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(), 1, rtol=1e-6)


def test_learnable_params_named_by_layer():
    prelu = activations.build('prelu', layer('hid2'))
    assert [p.name for p in prelu.params] == ['hid2.leak']
    np.testing.assert_allclose(prelu.params[0].get_value(), [0.1] * SIZE)
    lgrelu = activations.build('lgrelu', layer('hid2'))
    assert [p.name for p in lgrelu.params] == ['hid2.gain', 'hid2.leak']
    maxout = activations.build('maxout:4', layer('out'))
    assert maxout.pieces == 4
    assert [p.name for p in maxout.params] == ['out.slope', 'out.intercept']
    for p in maxout.params:
        assert p.get_value().dtype == backend.floatX()
    assert activations.build('relu', layer()).params == []


def test_composition_exposes_all_params():
    act = activations.build('prelu+norm:z+lgrelu', layer('h'))
    assert isinstance(act, activations.Composition)
    assert [p.name for p in act.params] == ['h.leak', 'h.gain', 'h.leak']
    assert act.name == 'prelu+norm:z+lgrelu'


def test_build_accepts_instances_and_callables():
    act = activations.build('tanh', layer())
    assert activations.build(act, layer()) is act
    double = activations.build(lambda x: 2 * x, layer())
    assert double.params == []
    x = TT.vector('x')
    fn = backend.compile([x], double(x), mode='python')
    np.testing.assert_allclose(fn(backend.cast([1, 2])), [2, 4])


def test_names_are_case_insensitive():
    assert isinstance(activations.build('ReLU', layer()), activations.Relu)
    assert isinstance(activations.build('Maxout:2', layer()),
                      activations.Maxout)


def test_unknown_name_lists_known_ones():
    with pytest.raises(ConfigurationError) as err:
        activations.build('rleu', layer())
    msg = str(err.value)
    assert "'rleu'" in msg
    assert 'relu' in msg and 'tanh' in msg and 'maxout' in msg
    with pytest.raises(ConfigurationError, match='nope'):
        activations.build('relu+nope', layer())
    with pytest.raises(ConfigurationError):
        activations.build('bogus:3', layer())
    with pytest.raises(ConfigurationError, match='norm:bogus'):
        activations.build('norm:bogus', layer())


def test_bad_arguments():
    with pytest.raises(ConfigurationError, match='pieces'):
        activations.build('maxout:x', layer())
    with pytest.raises(ConfigurationError, match='pieces'):
        activations.build('maxout', layer())
    with pytest.raises(ConfigurationError, match='no argument'):
        activations.build('tanh:3', layer())
    with pytest.raises(ConfigurationError):
        activations.build('relu+', layer())
    with pytest.raises(ConfigurationError):
        activations.build(3, layer())


def test_user_subclass_registers():
    class Cube(activations.Activation):
        aliases = ('x^3',)

        def __call__(self, x):
            return x ** 3

    try:
        assert isinstance(activations.build('cube', layer()), Cube)
        assert isinstance(activations.build('x^3', layer()), Cube)
        comp = activations.build('cube+relu', layer())
        assert len(comp.functions) == 2
    finally:
        activations.Activation._registry.pop('cube')
        activations.Activation._registry.pop('x^3')


def test_gradients_are_finite_for_elu():
    x = TT.vector('x')
    act = activations.build('elu', layer())
    grad = backend.grad(act(x).sum(), x)
    fn = backend.compile([x], grad, mode='python')
    got = fn(backend.cast([-2.0, 100.0, 0.5]))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [np.exp(-2.0), 1, 1], rtol=1e-5)
