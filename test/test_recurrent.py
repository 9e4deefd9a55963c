"""Recurrent layers, recurrent models, masking and the sequence helpers.

Models are tiny (sizes 2-6, 4-5 time steps) and each test compiles as few
functions as it can: these run in PyTensor's FAST_COMPILE mode.
"""

import importlib.util

import numpy as np
import pytest

import theanets
from theanets import backend, recurrent
from theanets.layers import recurrent as R  # registers the recurrent forms
from theanets.util import ConfigurationError

FORMS = [
    dict(form='rnn', direction='backward', h_0='learn', radius=0.9),
    dict(form='rrnn'),
    dict(form='mrnn', factors=3),
    dict(form='lstm', c_0='learn'),
    dict(form='gru'),
    dict(form='clockwork', periods=[1, 2]),
    dict(form='mut1'),
    dict(form='scrn', rate='log'),
    dict(form='bidirectional', worker='rnn', h_0='learn'),
    dict(form='bidirectional', worker='rrnn', rate='vector', combine='sum'),
]

EXTRA_OUTPUTS = {'rrnn': {'hid', 'rate'}, 'mrnn': {'factors'},
                 'lstm': {'cell'}, 'gru': {'hid', 'rate'},
                 'mut1': {'hid', 'rate'}, 'scrn': {'hid', 'state', 'rate'},
                 'bidirectional': {'fw_out', 'bw_out'}}


def _task(rng, n=6, steps=5, backward=False):
    """Targets that need memory: the previous (or next) step's input."""
    x = rng.normal(size=(n, steps, 3)).astype('f')
    y = np.zeros((n, steps, 2), 'f')
    if backward:
        y[:, :-1] = x[:, 1:, :2]
    else:
        y[:, 1:] = x[:, :-1, :2]
    return x, y


def _loss_grad_outputs(net, names):
    """One compiled function: loss, one gradient per param, outputs."""
    outputs, _ = net.build_graph()
    loss = net.loss()
    grads = backend.grad(loss, net.params)
    return backend.compile(net.variables,
                           [loss] + grads + [outputs[n] for n in names])


@pytest.mark.parametrize('spec', FORMS, ids=lambda s: '-'.join(
    str(v) for v in s.values() if not isinstance(v, list)))
def test_layer_form(spec, rng):
    net = recurrent.Regressor([3, dict(spec, size=4), 2])
    layer = net.layers[1]
    assert layer.output_shape == (None, 4)
    names = sorted(f'hid1:{k}' for k in
                   {'out'} | EXTRA_OUTPUTS.get(spec['form'], set()))
    fn = _loss_grad_outputs(net, names)
    x, y = _task(rng, backward=spec.get('direction') == 'backward')
    loss, *rest = fn(x, y)
    grads, outs = rest[:len(net.params)], rest[len(net.params):]
    for name, value in zip(names, outs):
        assert value.shape[:2] == (6, 5), name
        assert np.isfinite(value).all()
    assert outs[names.index('hid1:out')].shape == (6, 5, 4)
    for param, grad in zip(net.params, grads):
        assert np.abs(grad).max() > 0, f'no gradient reaches {param.name}'
    first = loss
    for _ in range(40):
        loss, *grads = fn(x, y)[:1 + len(net.params)]
        for param, grad in zip(net.params, grads):
            param.set_value(param.get_value() - 0.2 * grad)
    assert loss < 0.9 * first


def test_backward_is_forward_on_reversed_time(rng):
    net = recurrent.Regressor([
        3, dict(form='gru', size=4, name='fw', rng=1),
        dict(form='gru', size=4, name='bw', direction='backward', rng=1,
             inputs='in'),
        dict(form='concatenate', inputs=('fw', 'bw'), name='out')])
    for p, q in zip(net.find_layer('fw').params, net.find_layer('bw').params):
        assert np.array_equal(p.get_value(), q.get_value())
    x = rng.normal(size=(2, 5, 3))
    fw = net.feed_forward(x)['fw:out']
    bw = net.feed_forward(x[:, ::-1])['bw:out']
    assert np.allclose(fw, bw[:, ::-1], atol=1e-5)
    # a forward layer's step t depends only on steps <= t
    changed = x.copy()
    changed[:, 3:] = 9
    ff = net.feed_forward(changed)
    assert np.allclose(ff['fw:out'][:, :3], fw[:, :3], atol=1e-6)
    assert not np.allclose(ff['bw:out'][:, :3],
                           net.feed_forward(x)['bw:out'][:, :3])


def test_named_initial_state_is_used(rng):
    layer = R.RNN(size=4, name='r', h_0='h', activation='linear',
                  inputs={'x:out': (None, 3)})
    layer.bind({'h:out': (4,)}, rng=np.random.default_rng(0))
    assert list(layer.inputs) == ['x:out', 'h:out']
    x = backend.TT.tensor3('x')
    h = backend.TT.matrix('h')
    outs, _ = layer.connect({'x:out': x, 'h:out': h})
    fn = backend.compile([x, h], outs['r:out'])
    xv, hv = rng.normal(size=(2, 3, 3)), rng.normal(size=(2, 4))
    got = fn(backend.cast(xv), backend.cast(hv))
    xh, hh, b = (layer.find(k).get_value() for k in ('xh', 'hh', 'b'))
    assert np.allclose(got[:, 0], xv[:, 0] @ xh + hv @ hh + b, atol=1e-5)
    assert layer.to_spec()['h_0'] == 'h'


def test_recurrent_init():
    net = recurrent.Regressor([3, dict(form='lstm', size=4), (4, 'rnn'),
                               dict(form='rnn', size=4, radius=0.5), 2])
    hh = net.find('hid1', 'hh').get_value()
    assert hh.shape == (4, 16)
    assert net.find('hid1', 'xh').get_value().shape == (3, 16)
    for k in range(4):  # orthogonal blocks
        block = hh[:, 4 * k:4 * k + 4]
        assert np.allclose(block @ block.T, np.eye(4), atol=1e-5)
    assert np.allclose(net.find('hid1', 'b').get_value()[4:8], 1)  # forget
    hh3 = net.find('hid3', 'hh').get_value()
    radius = np.abs(np.linalg.eigvals(hh3)).max()
    assert np.isclose(radius, 0.5, atol=1e-4)
    assert net.layers[2].activation == 'tanh'


@pytest.fixture(scope='module')
def masked():
    """A weighted recurrent classifier and padded data."""
    rng = np.random.default_rng(1)
    net = recurrent.Classifier(
        [3, dict(form='lstm', size=4, peepholes=False), 2], weighted=True)
    x = rng.normal(size=(4, 5, 3)).astype('f')
    y = (x[..., 0] > 0).astype('int32')
    mask = np.ones((4, 5), 'f')
    mask[0, 3:] = mask[1, 2:] = 0
    return net, x, y, mask


def test_padding_changes_neither_loss_nor_gradient(masked):
    net, x, y, mask = masked
    fn = _loss_grad_outputs(net, [])
    before = fn(*net.check_data((x, y, mask)))
    x2, y2 = x.copy(), y.copy()
    x2[mask == 0] = 7
    y2[mask == 0] = 1 - y2[mask == 0]
    after = fn(*net.check_data((x2, y2, mask)))
    for a, b in zip(before, after):
        assert np.allclose(a, b, atol=1e-6)
    # ... while changing a real step changes both
    x2[2, 0] = 7
    assert not np.allclose(fn(*net.check_data((x2, y2, mask)))[0], before[0])


def test_classifier(masked):
    net, x, y, mask = masked
    net.train((x, y, mask), algo='rmsprop', max_gradient_norm=1,
              max_updates=3, batch_size=4)
    assert len(net.history) == 3 and 'acc' in net.history[-1][0]
    assert net.predict(x).shape == (4, 5) and net.predict(x).dtype.kind == 'i'
    probs = net.predict_proba(x)
    assert probs.shape == (4, 5, 2)
    assert np.allclose(probs.sum(-1), 1, atol=1e-5)
    assert 0 <= net.score(x, y, mask) <= 1
    assert net.predict(x[:, :2]).shape == (4, 2)  # any number of steps


def test_regressor_and_mask_broadcast(rng):
    net = recurrent.Regressor([3, dict(form='gru', size=4), 2], weighted=True)
    x, y = _task(rng, n=4)
    mask = np.ones((4, 5))
    cleaned = net.check_data((x, y, mask))
    assert cleaned[2].shape == (4, 5, 2)  # a (n, time) mask is broadcast
    net.train((x, y, mask), max_updates=2, batch_size=4)
    assert net.predict(x).shape == (4, 5, 2)
    assert np.isfinite(net.score(x, y, mask))


def test_autoencoder(rng):
    net = recurrent.Autoencoder([3, (4, 'rnn'), 3])
    assert net.layers[0].output_shape == (None, 3)
    x = rng.normal(size=(4, 5, 3))
    net.train((x,), max_updates=2, batch_size=4)
    assert net.predict(x).shape == (4, 5, 3)


def test_input_errors_name_the_expected_shape(masked):
    net, x, y, mask = masked
    with pytest.raises(ValueError, match=r'\(n, time, 3\).*x\[None\]'):
        net.predict(x[0])
    with pytest.raises(ValueError, match=r'expected 3 features'):
        net.predict(x[..., :2])
    with pytest.raises(ValueError, match='expected 5 time steps'):
        net.check_data((x, y[:, :4], mask[:, :4]))
    with pytest.raises(ConfigurationError, match=r'\(n, time, features\)'):
        theanets.Classifier([3, ('lstm', 4), 2])


@pytest.mark.parametrize('spec, match', [
    (dict(form='lstm'), 'needs a size'),
    (dict(form='rnn', size=4, direction='sideways'), 'forward'),
    (dict(form='rrnn', size=4, rate='fast'), 'matrix, vector'),
    (dict(form='clockwork', size=5, periods=[1, 2]), 'multiple'),
    (dict(form='clockwork', size=4), 'periods'),
    (dict(form='bidirectional', size=4, worker='ff'), 'recurrent forms: '),
    (dict(form='bidirectional', size=5), 'even'),
    (dict(form='bidirectional', size=4, direction='backward'), 'both'),
    (dict(form='lstm', size=4, h_0='hid7'), 'hid7'),
    (dict(form='rnn', size=4, colour=1), 'colour'),
    (dict(form='lstmm', size=4), "did you mean 'lstm'"),
])
def test_layer_errors(spec, match):
    with pytest.raises(ConfigurationError, match=match):
        recurrent.Regressor([3, spec, 2])


def test_save_load_round_trip(tmp_path, rng):
    net = recurrent.Classifier([
        3, dict(form='bidirectional', worker='rnn', size=4, h_0='learn'),
        dict(form='rrnn', size=4, rate='uniform'), 2])
    path = tmp_path / 'model.zip'
    net.save(path)
    back = theanets.Network.load(path)
    assert type(back) is recurrent.Classifier
    assert [p.name for p in back.params] == [p.name for p in net.params]
    assert back.find('hid1', 'fw.h_0') is not None
    assert back.layers[2].rates == net.layers[2].rates
    x = rng.normal(size=(2, 4, 3))
    assert np.allclose(back.predict_proba(x), net.predict_proba(x), atol=1e-6)


@pytest.mark.parametrize('spec', FORMS[1:] + [
    dict(form='lstm', size=4, bptt_limit=3, direction='backward',
         peepholes=False),
    dict(form='rrnn', rate='uniform'),
    dict(form='bidirectional', worker='scrn', rate='log')],
    ids=lambda s: s['form'])
def test_specs_rebuild_the_same_layer(spec):
    """Every constructor argument is in to_spec (without compiling)."""
    net = recurrent.Regressor([3, dict(spec, size=4), 2])
    layer_spec = net.layers[1].to_spec()
    again = recurrent.Regressor([3, dict(layer_spec), 2])
    assert again.layers[1].to_spec() == layer_spec
    for p, q in zip(net.layers[1].params, again.layers[1].params):
        assert p.name == q.name and p.get_value().shape == q.get_value().shape


def test_text():
    txt = recurrent.Text('hello world', min_count=2)
    assert txt.alphabet == 'lo' and txt.alpha == 'lo' and txt.num_classes == 3
    assert txt.text == '\0\0llo\0\0o\0l\0'
    codes = txt.encode('lol!')
    assert codes.dtype == np.int32 and codes.tolist() == [1, 2, 1, 0]
    assert txt.decode(codes) == 'lol\0'
    full = recurrent.Text('abcabc', alphabet='abc', unknown='?')
    assert full.decode(iter([1, 2, 3, 0])) == 'abc?'
    x, y = full.classifier_batches(4, 3, rng=0)()
    assert x.shape == (3, 4, 4) and x.dtype == backend.floatX()
    assert y.shape == (3, 4) and y.dtype == np.int32
    assert np.array_equal(x.argmax(-1)[:, 1:], y[:, :-1])  # y is x shifted
    assert np.allclose(x.sum(-1), 1)
    with pytest.raises(ValueError, match='need 7'):
        full.classifier_batches(6, 2)
    with pytest.raises(ValueError, match='unknown character'):
        recurrent.Text('ab', alphabet='ab', unknown='a')


def test_predict_sequence_learns_to_alternate():
    txt = recurrent.Text('ab' * 40)
    net = recurrent.Classifier([txt.num_classes, ('rnn', 5),
                                txt.num_classes])
    net.train(txt.classifier_batches(6, 8, rng=0), algo='adam',
              learning_rate=0.05, max_updates=60, train_batches=10)
    greedy = net.predict_sequence(txt.encode('a'), 6, temperature=0)
    assert txt.decode(greedy) == 'bababa'
    pairs = list(net.predict_sequence(txt.encode('ab'), 3, streams=2, rng=0))
    assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    with pytest.raises(ConfigurationError, match='input size'):
        next(recurrent.Classifier([3, (4, 'rnn'), 2]).predict_sequence([0], 2))


def test_batches():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3))
    y = np.arange(20)
    sample = recurrent.batches([x, y], steps=4, batch_size=5, rng=0)
    bx, by = sample()
    assert bx.shape == (5, 4, 3) and by.shape == (5, 4)
    assert by.dtype == np.int32
    assert np.allclose(bx, x[by])  # windows of x and y line up
    assert (np.diff(by, axis=1) == 1).all()
    seqs = [rng.normal(size=(n, 2)) for n in (2, 6, 9)]
    bx, mask = recurrent.batches([seqs], steps=4, batch_size=30, rng=1,
                                 mask=True)()
    assert bx.shape == (30, 4, 2) and mask.shape == (30, 4)
    short = mask.sum(axis=1) == 2  # windows from the 2-step sequence
    assert short.any() and (bx[short][:, 2:] == 0).all()
    assert set(mask.sum(axis=1)) <= {2, 4}
    with pytest.raises(ValueError, match='mask=True'):
        recurrent.batches([seqs], steps=4)
    with pytest.raises(ValueError, match=r'wrap it'):
        recurrent.batches(seqs, steps=2)


MASKED = [
    dict(form='rnn', direction='backward'),
    dict(form='lstm', direction='backward', c_0='learn'),
    dict(form='gru', direction='backward', bptt_limit=3),
    dict(form='lstm'),
    dict(form='bidirectional', worker='lstm'),
    dict(form='bidirectional', worker='gru', combine='sum'),
]


@pytest.mark.parametrize('spec', MASKED, ids=lambda s: '-'.join(
    str(v) for v in s.values()))
def test_mask_makes_end_padding_invisible(spec, rng):
    """On real steps, a padded batch gives what each sequence gives alone."""
    net = recurrent.Regressor([3, dict(spec, size=4, mask='in'),
                               dict(form='gru', size=4, mask='in',
                                    direction='backward'), 2])
    lengths = [5, 3, 1]
    x = rng.normal(size=(3, 5, 3)).astype('f')
    for row, length in enumerate(lengths):
        x[row, length:] = 0
    outs = net.feed_forward(x)
    for row, length in enumerate(lengths):
        alone = net.feed_forward(x[row:row + 1, :length])
        for name in ('hid1:out', 'hid2:out', 'out:out'):
            assert np.allclose(outs[name][row, :length], alone[name][0],
                               atol=1e-5), (name, row)
    # without the mask the padding leaks into a backward layer's real steps
    plain = recurrent.Regressor([3, dict(form='rnn', direction='backward',
                                         size=4, mean_b=0.5), 2])
    assert not np.allclose(plain.feed_forward(x)['hid1:out'][1, :3],
                           plain.feed_forward(x[1:2, :3])['hid1:out'][0])


def test_mask_padding_changes_neither_loss_nor_gradient(rng):
    net = recurrent.Regressor([
        3, dict(form='bidirectional', worker='lstm', size=4, mask='in'), 2],
        weighted=True)
    fn = _loss_grad_outputs(net, [])
    x, y = _task(rng, n=3)
    w = np.ones((3, 5), 'f')
    x[1, 3:] = 0
    w[1, 3:] = 0
    longer = [np.concatenate([a, np.zeros_like(a[:, :2])], axis=1)
              for a in (x, y, w)]
    longer[1][:, 5:] = 3  # targets on padded steps do not matter
    short = fn(*net.check_data((x, y, w)))
    long = fn(*net.check_data(tuple(longer)))
    for a, b in zip(short, long):
        assert np.allclose(a, b, atol=1e-5)
    assert all(np.abs(g).max() > 0 for g in short[1:])


def test_mask_errors_and_spec():
    with pytest.raises(ConfigurationError, match='mask'):
        recurrent.Regressor([3, dict(form='rnn', size=4, mask=3), 2])
    layer = R.RNN(size=4, name='r', mask='h', inputs={'x:out': (None, 3)})
    with pytest.raises(ConfigurationError, match=r'expected a sequence'):
        layer.bind({'h:out': (4,)}, rng=np.random.default_rng(0))
    net = recurrent.Regressor([3, dict(form='bidirectional', size=4,
                                       worker='gru', mask='in'), 2])
    assert net.layers[1].to_spec()['mask'] == 'in'
    assert net.layers[1].forward.mask == 'in'


def _run_mode(mode, form, x, y):
    saved = theanets.config.mode
    theanets.config.mode = mode
    try:
        net = recurrent.Classifier([(6, 3), (form, 4), 2], rng=2)
        before = net.predict_proba(x)
        net.train((x, y), algo='sgd', learning_rate=0.5, max_updates=2,
                  batch_size=4)
        return before, net.predict_proba(x)
    finally:
        theanets.config.mode = saved


@pytest.mark.skipif(importlib.util.find_spec('jax') is None,
                    reason='jax is not installed')
@pytest.mark.parametrize('form', ['lstm', 'gru'])
def test_jax_mode_agrees_with_python_mode(form):
    """With a known number of time steps (input spec ``(time, features)``),
    the scan's length is a constant and the JAX mode compiles the model."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 6, 3)).astype(backend.floatX())
    y = rng.integers(2, size=(4, 6)).astype('int32')
    want = _run_mode('python', form, x, y)
    got = _run_mode('jax', form, x, y)
    assert not np.allclose(want[0], want[1], atol=1e-3)  # training moved
    for a, b in zip(got, want):
        assert np.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize('peepholes', [False, True])
def test_lstm_matches_a_numpy_reference(peepholes, rng):
    """Both LSTM paths (one fused sigmoid per step without peepholes, the
    gate-by-gate one with them) compute the documented equations."""
    net = recurrent.Regressor(
        [3, dict(form='lstm', size=4, peepholes=peepholes), 2], rng=3)
    layer = net.find_layer('hid1')
    for name in ('b',) + (('ci', 'cf', 'co') if peepholes else ()):
        p = layer.find(name)  # nonzero biases and peepholes
        p.set_value(rng.normal(size=p.get_value().shape).astype('f'))
    x = rng.normal(size=(2, 5, 3)).astype('f')
    got = net.feed_forward(x)['hid1:out']
    w = {p.name.split('.')[-1]: p.get_value() for p in layer.params}
    peep = [w[k] if peepholes else 0 for k in ('ci', 'cf', 'co')]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h, c, want = np.zeros((2, 4)), np.zeros((2, 4)), []
    for t in range(5):
        z = x[:, t] @ w['xh'] + h @ w['hh'] + w['b']
        i = sig(z[:, :4] + c * peep[0])
        f = sig(z[:, 4:8] + c * peep[1])
        c = f * c + i * np.tanh(z[:, 8:12])
        o = sig(z[:, 12:] + c * peep[2])
        h = o * np.tanh(c)
        want.append(h)
    assert np.allclose(got, np.stack(want, axis=1), atol=1e-5)
