"""Losses: values against numpy, weights, labels, shape checks, registry."""

import numpy as np
import pytest

from theanets import backend, losses
from theanets.backend import TT
from theanets.util import ConfigurationError

RNG = np.random.default_rng(5)
N, K, T = 6, 4, 3
OUT = RNG.normal(size=(N, K))
TGT = RNG.normal(size=(N, K))
W = RNG.uniform(0.1, 2, size=(N, K))
PROB = RNG.dirichlet(np.ones(K), size=N)
TPROB = RNG.dirichlet(np.ones(K), size=N)
BIN = RNG.uniform(0.05, 0.95, size=(N, K))
TBIN = (RNG.uniform(size=(N, K)) > 0.5).astype(float)
PM1 = np.where(TBIN > 0, 1.0, -1.0)
LAB = RNG.integers(0, K, size=N)
LW = RNG.uniform(0.1, 2, size=N)
LOG3 = RNG.normal(size=(N, T, K))
LAB3 = RNG.integers(0, K, size=(N, T))
COV = RNG.uniform(0.5, 2, size=(N, K))
EXTREME = np.array([[0.0, 200.0, -200.0, 1.0]] * 2)


def _softmax(x):
    z = np.exp(x - x.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


def _logsoftmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _hinge(o, y):
    true = o[np.arange(len(y)), y]
    margin = 1 + o - true[:, None]
    margin[np.arange(len(y)), y] = 0
    return np.maximum(0, margin.max(axis=-1))


def _gauss(a, b, bw=1.0):
    d = ((a[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.exp(-d / bw)


def _cases():
    """(case name, loss, outputs, inputs, feed, expected value)."""
    o, x = TT.matrix('o'), TT.matrix('x')
    logits, logits3 = TT.matrix('logits'), TT.tensor3('logits3')
    sm, sm3 = TT.special.softmax(logits, axis=-1), \
        TT.special.softmax(logits3, axis=-1)
    sig = TT.sigmoid(logits)
    y, y2 = TT.ivector('labels'), TT.imatrix('labels3')
    cov = TT.matrix('cov')
    feed = {o: OUT, x: TGT, logits: OUT, logits3: LOG3, y: LAB, y2: LAB3,
            cov: COV}
    cases = []

    def add(name, loss, outputs, expected, inputs=None, **values):
        for var in loss.variables:
            if var not in feed:
                feed[var] = values[var.name]
        cases.append((name, loss, outputs, inputs, expected))

    err = OUT - TGT
    add('mse', losses.build('mse', 2), {'out:out': o}, (err ** 2).mean(),
        targets=TGT)
    add('mse-weighted', losses.build('mse', 2, weighted=True),
        {'out:out': o}, (W * err ** 2).sum() / W.sum(), targets=TGT, weights=W)
    add('mse-reconstruct', losses.build('mse', None), {'out:out': o},
        (err ** 2).mean(), inputs=[x])
    add('mse-reconstruct-weighted', losses.build('mse', None, weighted=True),
        {'out:out': o}, (W * err ** 2).sum() / W.sum(), inputs=[x], weights=W)
    add('mae', losses.build('MAE', 2, output_name='hid1:pre'),
        {'hid1:pre': o}, abs(err).mean(), targets=TGT)
    add('mae-weighted', losses.build('mae', 2, weighted=True),
        {'out:out': o}, (W * abs(err)).sum() / W.sum(), targets=TGT, weights=W)
    add('hinge-labels', losses.build('hinge', y), {'out:out': o},
        _hinge(OUT, LAB).mean())
    add('hinge-labels-weighted', losses.build('hinge', y, weighted=True),
        {'out:out': o}, (LW * _hinge(OUT, LAB)).sum() / LW.sum(), weights=LW)
    add('hinge-float', losses.build('hinge', 2), {'out:out': o},
        np.maximum(0, 1 - PM1 * OUT).mean(), targets=PM1)
    add('hinge-3d', losses.build('hinge', y2), {'out:out': logits3},
        _hinge(LOG3.reshape(-1, K), LAB3.ravel()).mean())
    nlp = -_logsoftmax(OUT)[np.arange(N), LAB]
    add('xe-softmax', losses.build('xe', y), {'out:out': sm}, nlp.mean())
    add('xe-weighted', losses.build('xe', y, weighted=True),
        {'out:out': sm}, (LW * nlp).sum() / LW.sum(), weights=LW)
    nlp3 = -_logsoftmax(LOG3).reshape(-1, K)[np.arange(N * T), LAB3.ravel()]
    add('xe-3d', losses.build('xe', y2), {'out:out': sm3}, nlp3.mean())
    add('xe-3d-weighted', losses.build('xe', y2, weighted=True),
        {'out:out': sm3}, (LW[:, None] * nlp3.reshape(N, T)).sum() /
        (LW.sum() * T), weights=np.repeat(LW[:, None], T, axis=1))
    add('xe-probabilities', losses.build('xe', y), {'out:out': o},
        -np.log(PROB[np.arange(N), LAB]).mean())
    bce = -(TBIN * np.log(BIN) + (1 - TBIN) * np.log(1 - BIN))
    add('xe-binary', losses.build('xe', 2), {'out:out': x}, bce.mean(),
        targets=TBIN)
    p = 1 / (1 + np.exp(-OUT))
    add('xe-binary-sigmoid', losses.build('xe', 2, weighted=True),
        {'out:out': sig}, (W * -(TBIN * np.log(p) + (1 - TBIN) *
                                 np.log(1 - p))).sum() / W.sum(),
        targets=TBIN, weights=W)
    kl = (TPROB * np.log(TPROB / PROB)).sum(-1)
    add('kl', losses.build('kl', 2), {'out:out': o}, kl.mean(), targets=TPROB)
    add('kl-weighted-ones', losses.build('kl', 2, weighted=True),
        {'out:out': o}, kl.mean(), targets=TPROB, weights=np.ones((N, K)))
    gll = 0.5 * (np.log(2 * np.pi) + err ** 2).sum(-1)
    add('gll-unit', losses.build('gll', 2), {'out:out': o}, gll.mean(),
        targets=TGT)
    var = COV + 1e-3
    gll = 0.5 * (np.log(2 * np.pi) + np.log(var) + err ** 2 / var).sum(-1)
    add('gll-covar', losses.build('gll', 2, mean_name='mu', covar_name='cov'),
        {'mu:out': o, 'cov:out': cov}, gll.mean(), targets=TGT)
    mmd = (_gauss(TGT, TGT).mean() - 2 * _gauss(TGT, OUT).mean() +
           _gauss(OUT, OUT).mean())
    add('mmd', losses.build('mmd', 2), {'out:out': o}, mmd, targets=TGT)
    return cases, feed


@pytest.fixture(scope='module')
def computed():
    cases, feed = _cases()
    # the probability outputs need their own arrays: feed them by output
    prob_o, bin_x = TT.matrix('prob'), TT.matrix('bin')
    exprs = []
    for name, loss, outputs, inputs, _ in cases:
        if name in ('xe-probabilities', 'kl', 'kl-weighted-ones'):
            outputs = {k: prob_o for k in outputs}
        if name == 'xe-binary':
            outputs = {k: bin_x for k in outputs}
        exprs.append(loss(outputs, inputs))
    feed[prob_o], feed[bin_x] = PROB, BIN
    variables = list(feed)
    values = [np.asarray(feed[v], dtype=v.dtype) for v in variables]
    fn = backend.compile(variables, exprs, mode='python')
    got = fn(*values)
    return {case[0]: (value, case[4]) for case, value in zip(cases, got)}


CASE_NAMES = [
    'mse', 'mse-weighted', 'mse-reconstruct', 'mse-reconstruct-weighted',
    'mae', 'mae-weighted', 'hinge-labels', 'hinge-labels-weighted',
    'hinge-float', 'hinge-3d', 'xe-softmax', 'xe-weighted', 'xe-3d',
    'xe-3d-weighted', 'xe-probabilities', 'xe-binary', 'xe-binary-sigmoid',
    'kl', 'kl-weighted-ones', 'gll-unit', 'gll-covar', 'mmd']


@pytest.mark.parametrize('name', CASE_NAMES)
def test_values_match_numpy(computed, name):
    got, expected = computed[name]
    assert got.ndim == 0
    assert got.dtype == backend.floatX()
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)


def test_all_cases_checked():
    assert sorted(CASE_NAMES) == sorted(case[0] for case in _cases()[0])


def test_shape_mismatch_raises():
    o = TT.matrix('o')
    mse = losses.build('mse', 2)
    xe = losses.build('xe', TT.ivector('y'))
    fn = backend.compile([o] + mse.variables + xe.variables,
                         [mse({'out:out': o}), xe({'out:out': o})],
                         mode='python')
    out = backend.cast(np.full((4, 3), 0.3))
    labels = np.zeros(4, 'int32')
    fn(out, backend.cast(np.zeros((4, 3))), labels)
    with pytest.raises(Exception):  # (n, 1) target vs (n, 3) output
        fn(out, backend.cast(np.zeros((4, 1))), labels)
    for bad in ([0], [0, 1]):  # label count differs from rows
        with pytest.raises(Exception):
            fn(out, backend.cast(np.zeros((4, 3))), np.array(bad, 'int32'))


def test_ndim_mismatch_is_configuration_error():
    with pytest.raises(ConfigurationError, match='dimensions'):
        losses.build('mse', 3)({'out:out': TT.matrix()})
    with pytest.raises(ConfigurationError, match='labels'):
        losses.build('xe', TT.imatrix())({'out:out': TT.matrix()})
    loss = losses.build('mse', None, weighted=True, input_ndim=3)
    with pytest.raises(ConfigurationError, match='weights'):
        loss({'out:out': TT.matrix()}, [TT.matrix()])
    with pytest.raises(ConfigurationError, match='without inputs'):
        losses.build('mse', None)({'out:out': TT.matrix()})
    with pytest.raises(ConfigurationError, match="'out:out'"):
        losses.build('mse', 2)({'hid:out': TT.matrix()})


def test_xe_is_finite_for_extreme_softmax():
    logits, y = TT.matrix('logits'), TT.ivector('y')
    loss = losses.build('xe', y)
    value = loss({'out:out': TT.special.softmax(logits, axis=-1)})
    grad = backend.grad(value, logits)
    fn = backend.compile([logits, y], [value, grad], mode='python')
    got, g = fn(backend.cast(EXTREME), np.array([2, 1], 'int32'))
    np.testing.assert_allclose(got, 200, rtol=1e-5)  # (400 + 0) / 2
    assert np.isfinite(g).all()


def test_variables_and_names():
    loss = losses.build('mse', 2, weighted=True, output_name='hid1')
    assert [v.name for v in loss.variables] == ['targets', 'weights']
    assert [v.ndim for v in loss.variables] == [2, 2]
    assert all(v.dtype == backend.floatX() for v in loss.variables)
    assert loss.output_name == 'hid1:out'
    assert losses.build('mse', None).variables == []
    assert losses.build('mse', None, weighted=True).variables[0].ndim == 2
    y = TT.ivector('labels')
    xe = losses.build('xe', y, weighted=True)
    assert xe.variables[0] is y and xe.variables[1].ndim == 1
    assert xe.labels and not loss.labels
    assert 'MeanSquaredError' in repr(loss) and 'hid1:out' in repr(loss)
    loss.log()
    assert isinstance(losses.build('kld', 2), losses.KullbackLeiblerDivergence)
    existing = losses.build('mae', 2)
    assert losses.build(existing, None) is existing


def test_weight_is_stored_not_applied():
    loss = losses.build('mse', 2, weight=0.5)
    assert loss.weight == 0.5


def test_bad_options():
    with pytest.raises(ConfigurationError, match='weighted'):
        losses.build('mse', 2, wieghted=True)
    with pytest.raises(ConfigurationError, match='target'):
        losses.build('mse', 'two')
    with pytest.raises(ConfigurationError, match='weighted'):
        losses.build('mmd', 2, weighted=True)
    with pytest.raises(ConfigurationError) as err:
        losses.build('msee', 2)
    assert 'mse' in str(err.value) and 'xe' in str(err.value)
    with pytest.raises(ConfigurationError, match='integer class labels'):
        losses.build('mse', 2).accuracy({'out:out': TT.matrix()})


def test_accuracy():
    o, y = TT.matrix('o'), TT.ivector('y')
    loss = losses.build('xe', y, weighted=True)
    fn = backend.compile([o] + loss.variables, loss.accuracy({'out:out': o}),
                         mode='python')
    out = backend.cast([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    got = fn(out, np.array([0, 0, 0], 'int32'), backend.cast([1, 1, 2]))
    np.testing.assert_allclose(got, 3 / 4)


def test_user_subclass_registers():
    class Quartic(losses.Loss):
        def __call__(self, outputs, inputs=None):
            output = self._output(outputs)
            err = output - self._target_for(output, inputs)
            return self._average(err ** 4)

    try:
        assert isinstance(losses.build('quartic', 2), Quartic)
    finally:
        losses.Loss._registry.pop('quartic')


def test_to_spec_round_trip():
    import json
    for loss in (losses.build('mse', 2, weight=0.5, weighted=True,
                              output_name='hid1'),
                 losses.build('gll', 2, covar_name='cov'),
                 losses.build('mmd', 2, kernel=2),
                 losses.build('xe', TT.ivector('y'))):
        spec = json.loads(json.dumps(loss.to_spec()))
        again = losses.build(spec.pop('form'), loss.target_variable, **spec)
        assert type(again) is type(loss)
        assert again.to_spec() == loss.to_spec()
        assert repr(again) == repr(loss)
    assert losses.build('mse', 2).to_spec()['form'] == 'mse'
    with pytest.raises(ConfigurationError, match='callable kernel'):
        losses.build('mmd', 2, kernel=lambda a, b: a.dot(b.T)).to_spec()


def test_weights_variable_can_be_shared():
    first = losses.build('mse', 2, weighted=True)
    second = losses.build('mae', 2, weighted=True)
    second.weights_variable = first.weights_variable
    assert second.variables[1] is first.variables[1]
    with pytest.raises(ConfigurationError, match='same number'):
        second.weights_variable = TT.vector()
    assert losses.build('mse', 2).weights_variable is None
