"""Regularizers: penalties against numpy, dropout and noise statistics,
keyword parsing."""

import types

import numpy as np
import pytest

from theanets import backend, regularizers
from theanets.backend import TT
from theanets.util import ConfigurationError

RNG = np.random.default_rng(7)
X = RNG.normal(size=(5, 3))
W1, B1 = RNG.normal(size=(3, 4)), RNG.normal(size=4)
W2, B2 = RNG.normal(size=(4, 2)), RNG.normal(size=2)
SEQ = RNG.normal(size=(2, 5, 3))


def _layer(name, params=()):
    return types.SimpleNamespace(name=name, output_name=f'{name}:out',
                                 params=list(params))


def _net():
    """A tiny input -> tanh -> linear network: (layers, outputs, x)."""
    w1, b1 = backend.shared(W1, 'hid1.w'), backend.shared(B1, 'hid1.b')
    w2, b2 = backend.shared(W2, 'out.w'), backend.shared(B2, 'out.b')
    layers = [_layer('in'), _layer('hid1', [w1, b1]), _layer('out', [w2, b2])]
    x = TT.matrix('x')
    h = TT.tanh(x.dot(w1) + b1)
    outputs = {'in:out': x, 'hid1:pre': x.dot(w1) + b1, 'hid1:out': h,
               'out:out': h.dot(w2) + b2}
    return layers, outputs, x


def _numpy_net():
    h = np.tanh(X @ W1 + B1)
    return h, h @ W2 + B2


@pytest.fixture(scope='module')
def computed():
    """Penalties, dropout and noise, evaluated by one compiled function."""
    layers, outputs, x = _net()
    seq = TT.tensor3('seq')
    outputs['rnn:out'] = seq
    regs, _ = regularizers.from_kwargs(
        layers, weight_l1=1, weight_l2=1, hidden_l1=1, hidden_l2=1,
        contractive=1, recurrent_norm={'rnn:out': 1},
        recurrent_state={'rnn:out': 1}, weight_decay=dict(
            weight=1, pattern='*.b'))
    penalties = {type(r).__name__ + (r.pattern if r.pattern == '*.b' else ''):
                 r.loss(layers, outputs) for r in regs}
    big = TT.matrix('big')
    drop = regularizers.BernoulliDropout(pattern='a:out', weight=0.3, rng=4)
    noise = regularizers.GaussianNoise(pattern='b:*', weight=0.5, rng=4)
    graph = {'a:out': big, 'a:pre': big, 'b:out': big, 'b:pre': big}
    drop.modify_graph(graph)
    noise.modify_graph(graph)
    names = sorted(penalties)
    exprs = [penalties[n] for n in names] + [
        graph['a:out'], graph['a:pre'], graph['b:out'], graph['b:pre']]
    fn = backend.compile([x, seq, big], exprs, mode='python')
    ones = backend.cast(np.ones((400, 250)))

    def run():
        return fn(backend.cast(X), backend.cast(SEQ), ones)

    first, second = run(), run()
    result = dict(zip(names, first))
    result['dropped'], result['undropped'] = first[-4], first[-3]
    result['noisy'], result['quiet'] = first[-2], first[-1]
    result['dropped2'], result['noisy2'] = second[-4], second[-2]
    return result


def test_weight_penalties(computed):
    # by default: every parameter with 2+ dimensions, mean per array
    np.testing.assert_allclose(
        computed['WeightL1Penalty'],
        (abs(W1).mean() + abs(W2).mean()) / 2, rtol=1e-5)
    np.testing.assert_allclose(
        computed['WeightL2Penalty'], ((W1 ** 2).mean() + (W2 ** 2).mean()) / 2,
        rtol=1e-5)
    np.testing.assert_allclose(
        computed['WeightL2Penalty*.b'],
        ((B1 ** 2).mean() + (B2 ** 2).mean()) / 2, rtol=1e-5)


def test_hidden_penalties(computed):
    h, _ = _numpy_net()
    np.testing.assert_allclose(computed['HiddenL1Penalty'], abs(h).mean(),
                               rtol=1e-5)
    np.testing.assert_allclose(computed['HiddenL2Penalty'], (h ** 2).mean(),
                               rtol=1e-5)


def test_contractive(computed):
    h, _ = _numpy_net()
    grad = ((1 - h ** 2) @ W1.T) / h.size  # d mean(h) / dx
    np.testing.assert_allclose(computed['Contractive'], (grad ** 2).mean(),
                               rtol=1e-4)


def test_recurrent_penalties(computed):
    norms = (SEQ ** 2).sum(-1)
    np.testing.assert_allclose(computed['RecurrentNorm'],
                               ((norms[:, 1:] - norms[:, :-1]) ** 2).mean(),
                               rtol=1e-5)
    delta = SEQ[:, 1:] - SEQ[:, :-1]
    np.testing.assert_allclose(computed['RecurrentState'], (delta ** 2).mean(),
                               rtol=1e-5)


def test_dropout_keep_rate_and_rescaling(computed):
    dropped = computed['dropped']
    assert dropped.dtype == backend.floatX()
    kept = dropped != 0
    assert abs(kept.mean() - 0.7) < 0.01  # 100000 draws: std ~0.0015
    np.testing.assert_allclose(dropped[kept], 1 / 0.7, rtol=1e-6)
    assert abs(dropped.mean() - 1) < 0.02
    assert (computed['undropped'] == 1).all()  # pattern 'a:out' only
    assert (computed['dropped2'] != dropped).any()  # a fresh mask per call


def test_noise_std(computed):
    noise = computed['noisy'] - 1
    assert noise.dtype == backend.floatX()
    assert abs(noise.std() - 0.5) < 0.01
    assert abs(noise.mean()) < 0.01
    assert (computed["quiet"] - 1).std() > 0.4  # 'b:*' matches b:pre too
    assert (computed['noisy2'] != computed['noisy']).any()


def test_from_kwargs_splits():
    layers = [_layer('in'), _layer('hid1'), _layer('hid2'), _layer('out')]
    regs, rest = regularizers.from_kwargs(
        layers, weight_l2=1e-3, hidden_dropout=0.5, input_noise=0,
        hidden_l1={'hid1:out': 0.5, 'hid2:out': 0}, learning_rate=0.1,
        momentum=0.9, dropout={'hid[12]:out': 0.2}, input_dropout=None,
        weight_sparsity=dict(weight=0.1, pattern='hid1.*'), rng=5)
    assert rest == {'learning_rate': 0.1, 'momentum': 0.9}
    found = {(type(r).__name__, str(r.pattern), r.weight) for r in regs}
    assert found == {
        ('WeightL2Penalty', 'None', 1e-3),
        ('HiddenDropout', "['hid1:out', 'hid2:out']", 0.5),
        ('HiddenL1Penalty', 'hid1:out', 0.5),
        ('BernoulliDropout', 'hid[12]:out', 0.2),
        ('WeightL1Penalty', 'hid1.*', 0.1),
    }
    streams = {id(r.rng) for r in regs
               if isinstance(r, regularizers.BernoulliDropout)}
    assert len(streams) == 1  # one shared stream: independent masks


def test_from_kwargs_defaults_and_explicit_list():
    layers = [_layer('in'), _layer('hid1'), _layer('out')]
    mine = regularizers.HiddenNoise(weight=0.1)
    regs, rest = regularizers.from_kwargs(
        layers, regularizers=[mine], input_dropout=0.2, output_noise=0.3,
        hidden_l2=0.1)
    assert rest == {}
    assert regs[0] is mine and mine.pattern == ['hid1:out']
    patterns = {type(r).__name__: r.pattern for r in regs}
    assert patterns['InputDropout'] == ['in:out']
    assert patterns['OutputNoise'] == ['out:out']
    assert patterns['HiddenL2Penalty'] == ['hid1:out']
    regs, _ = regularizers.from_kwargs(layers,
                                       regularizers={'weight_decay': 0.1})
    assert isinstance(regs[0], regularizers.WeightL2Penalty)


def test_modify_graph_in_place_only_matching():
    layers = [_layer('in'), _layer('hid1'), _layer('out')]
    regs, _ = regularizers.from_kwargs(layers, hidden_dropout=0.5)
    x = TT.matrix()
    for outputs in ({'in:out': x}, {'out:out': x}, {'hid1:pre': x}):
        regs[0].modify_graph(outputs)
        assert list(outputs.values()) == [x]
    outputs = {'hid1:out': x, 'hid1:pre': x}
    regs[0].modify_graph(outputs)
    assert outputs['hid1:out'] is not x and outputs['hid1:pre'] is x
    assert regs[0].loss(layers, outputs) == 0


def test_errors():
    with pytest.raises(ConfigurationError, match='resolve'):
        regularizers.HiddenDropout(weight=0.5).modify_graph({})
    with pytest.raises(ConfigurationError, match=r'\[0, 1\)'):
        regularizers.BernoulliDropout(weight=1.0)
    with pytest.raises(ConfigurationError, match='>= 0'):
        regularizers.WeightL2Penalty(weight=-1)
    layers = [_layer('in'), _layer('hid1'), _layer('out')]
    with pytest.raises(ConfigurationError, match='pattern'):
        regularizers.from_kwargs(layers, recurrent_norm=0.1)
    with pytest.raises(ConfigurationError, match='number'):
        regularizers.from_kwargs(layers, weight_l2='big')
    with pytest.raises(ConfigurationError, match='weight_l2'):
        regularizers.from_kwargs(layers, weight_l2=dict(weight=1, wrt='x'))
    with pytest.raises(ConfigurationError, match='Regularizer'):
        regularizers.from_kwargs(layers, regularizers=['weight_l2'])
    with pytest.raises(ConfigurationError) as err:
        regularizers.Regularizer.lookup('weight_l3')
    assert 'weight_l2' in str(err.value) and 'hidden_dropout' in str(err.value)


def test_user_subclass_registers():
    class WeightInverse(regularizers.Regularizer):
        def loss(self, layers, outputs):
            return sum((1 / p).mean() for l in layers for p in l.params)

    try:
        layers = [_layer('in'), _layer('out')]
        regs, rest = regularizers.from_kwargs(layers, weightinverse=0.1,
                                              algo='sgd')
        assert isinstance(regs[0], WeightInverse) and regs[0].weight == 0.1
        assert rest == {'algo': 'sgd'}
    finally:
        regularizers.Regularizer._registry.pop('weightinverse')


def test_log_and_repr():
    reg = regularizers.WeightL2Penalty(weight=0.1, pattern='*.w')
    assert repr(reg) == "WeightL2Penalty(pattern='*.w', weight=0.1)"
    reg.log()
