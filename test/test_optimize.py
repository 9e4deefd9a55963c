"""Tests of theanets.optimize: update rules, datasets, the training loop."""

import io
import logging

import numpy as np
import pytest

from theanets import backend, optimize, util

TT = backend.TT

RNG = np.random.default_rng(0)
X = RNG.normal(size=(30, 5))
Y = X @ RNG.normal(size=(5, 1)) + 0.5


def regression():
    """A fresh least-squares problem: loss, [w, b], [x, y]."""
    x, y = TT.matrix('x'), TT.matrix('y')
    w = backend.shared(np.zeros((5, 1)), 'w')
    b = backend.shared(np.zeros(1), 'b')
    return ((x @ w + b - y) ** 2).mean(), [w, b], [x, y]


def values(params):
    return [p.get_value().copy() for p in params]


# -- update rules ------------------------------------------------------------

ALGORITHMS = {
    'sgd': dict(learning_rate=0.05),
    'nag': dict(learning_rate=0.05, momentum=0.9),
    'rmsprop': dict(learning_rate=0.01),
    'adam': dict(learning_rate=0.05),
    'adadelta': dict(rms_regularizer=1e-4),
    'adagrad': dict(learning_rate=0.5),
    'esgd': dict(learning_rate=0.05),
    'rprop': dict(learning_rate=0.01, rprop_increase=1.2, rprop_decrease=0.5),
}


@pytest.mark.parametrize('algo', sorted(ALGORITHMS))
def test_algorithm_reduces_loss(algo):
    loss, params, inputs = regression()
    opt = optimize.build(algo, loss, params, inputs, **ALGORITHMS[algo])
    start = opt.evaluate((X, Y))['loss']
    opt.minimize((X, Y), batch_size=10, max_updates=300, patience=100)
    assert opt.n_updates == 300
    assert opt.evaluate((X, Y))['loss'] < 0.01 * start
    assert all(np.isfinite(v).all() for v in values(params))


def test_registry_covers_downhill_names():
    assert set(optimize.UpdateRule._registry) >= set(ALGORITHMS)
    rule = optimize.UpdateRule.lookup('NAG')(momentum=0.5)
    assert rule.nesterov and rule.momentum == 0.5


def test_nesterov_matches_numpy_steps():
    loss, params, inputs = regression()
    lr, mu = 0.1, 0.9
    opt = optimize.build('sgd', loss, params, inputs, learning_rate=lr,
                         momentum=mu, nesterov=True)

    def grads(w, b):
        err = X @ w + b - Y
        return 2 * X.T @ err / len(X), 2 * err.sum(axis=0) / len(X)

    w, b = np.zeros((5, 1)), np.zeros(1)
    vel = [np.zeros_like(w), np.zeros_like(b)]
    seen = 0
    for _ in opt.iterate((X, Y), batch_size=30, max_updates=2):
        new = []
        for i, (p, g) in enumerate(zip((w, b), grads(w, b))):
            delta = -lr * g
            vel[i] = mu * vel[i] + delta
            new.append(p + mu * vel[i] + delta)
        w, b = new
        np.testing.assert_allclose(params[0].get_value(), w, rtol=1e-4)
        np.testing.assert_allclose(params[1].get_value(), b, rtol=1e-4)
        seen += 1
    assert seen == 2


def test_apply_momentum_passes_state_through():
    w = backend.shared(np.ones(2), 'w')
    state = backend.shared_like(w, 'acc')
    updates = optimize.apply_momentum([(state, state + 1), (w, w - 1)], [w],
                                      0.5, nesterov=True)
    targets = [v.name for v, _ in updates]
    assert targets == ['w_acc', 'w_vel', 'w']
    step = w - 1
    assert optimize.apply_momentum([(w, step)], [w], 0) == [(w, step)]


@pytest.mark.parametrize('option, limit', [('max_gradient_norm', 0.1),
                                           ('max_gradient_elem', 0.01)])
def test_gradient_clipping(option, limit):
    loss, params, inputs = regression()
    opt = optimize.build('sgd', loss, params, inputs, learning_rate=1.0,
                         **{option: limit})
    for _ in opt.iterate((X, Y), batch_size=30, max_updates=1):
        delta = params[0].get_value()  # started at zero
    if option == 'max_gradient_norm':
        assert np.linalg.norm(delta) == pytest.approx(limit, rel=1e-4)
    else:
        np.testing.assert_allclose(np.abs(delta), limit, rtol=1e-4)


def test_rprop_steps_follow_the_learning_rate():
    loss, params, inputs = regression()
    opt = optimize.build('rprop', loss, params, inputs, learning_rate=0.01)
    steps = []
    for _ in opt.iterate((X, Y), batch_size=30, max_updates=2):
        steps.append(params[0].get_value().copy())
        opt.learning_rate = 0.02
    np.testing.assert_allclose(np.abs(steps[0]), 0.01, rtol=1e-5)
    # same gradient signs: the step grows by rprop_increase, times 2
    np.testing.assert_allclose(np.abs(steps[1] - steps[0]), 0.02 * 1.01,
                               rtol=1e-5)


def test_schedule_monitors_and_logging(caplog):
    loss, params, inputs = regression()
    seen = []

    def schedule(n):
        seen.append(n)
        return 0.01 / (1 + n)

    err = abs(inputs[0] @ params[0] + params[1] - inputs[1]).mean()
    opt = optimize.build('sgd', loss, params, inputs, learning_rate=schedule,
                         monitors={'err': err}, monitor_gradients=True)
    with caplog.at_level(logging.INFO, logger='theanets'):
        train, valid = opt.minimize((X, Y), batch_size=10, max_updates=6)
    assert seen == [0, 0, 1, 2, 3, 4, 5]  # the first call sets the start
    assert opt.learning_rate == pytest.approx(0.01 / 6)
    assert list(train) == ['loss', 'err', 'grad(w)', 'grad(b)']
    assert list(valid) == list(train)
    lines = [r.getMessage() for r in caplog.records]
    assert lines[0].startswith('epoch 0  valid loss=')
    assert lines[0].endswith(' *')
    assert any(line.startswith('epoch 2  train loss=') for line in lines)
    opt.learning_rate = 0.5
    assert opt.rule.schedule is None and opt.learning_rate == 0.5


def test_unknown_algorithm_and_misspelled_options():
    loss, params, inputs = regression()
    with pytest.raises(util.ConfigurationError, match="'sgd'"):
        optimize.build('sgdd', loss, params, inputs)
    with pytest.raises(util.ConfigurationError, match="'learning_rate'"):
        optimize.build('sgd', loss, params, inputs, learnin_rate=0.1)
    with pytest.raises(util.ConfigurationError, match="'rms_halflife'"):
        optimize.RMSProp(rms_halflfe=3)
    with pytest.raises(util.ConfigurationError, match='iterate'):
        optimize.build('adam', loss, params, inputs, patience=3)
    with pytest.raises(util.ConfigurationError, match='momentum'):
        optimize.build('nag', loss, params, inputs, momentum=1.5)
    with pytest.raises(util.ConfigurationError, match='hyperparameter'):
        optimize.NAG(nesterov=False)


def test_split_options():
    build, iterate, rest = optimize.split_options('rmsprop', dict(
        learning_rate=1, rms_halflife=3, max_gradient_norm=1, patience=2,
        batch_size=4, weight_l2=0.1))
    assert build == dict(learning_rate=1, rms_halflife=3, max_gradient_norm=1)
    assert iterate == dict(patience=2, batch_size=4)
    assert rest == dict(weight_l2=0.1)


# -- datasets ----------------------------------------------------------------

def epoch(dataset):
    return [tuple(a.copy() for a in batch) for batch in dataset]


def test_dataset_shuffles_per_epoch_with_a_seed():
    data = (np.arange(10.0)[:, None], np.arange(10))
    first, second = (optimize.Dataset(data, batch_size=4, rng=5)
                     for _ in range(2))
    a, b = epoch(first), epoch(second)
    assert [len(x) for x, _ in a] == [4, 4, 2]
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(xa[:, 0], ya)  # rows stay paired
    assert sorted(np.concatenate([y for _, y in a])) == list(range(10))
    again = np.concatenate([y for _, y in epoch(first)])
    assert sorted(again) == list(range(10))
    assert list(again) != list(np.concatenate([y for _, y in a]))
    x, y = a[0]
    assert x.dtype == backend.floatX() and y.dtype == np.int32
    assert x.flags.c_contiguous and y.flags.c_contiguous


def test_dataset_iteration_size_continues():
    data = (np.arange(10.0),)
    ds = optimize.Dataset(data, batch_size=3, iteration_size=2, shuffle=False)
    firsts = [[b[0][0] for b in ds] for _ in range(3)]
    assert firsts == [[0, 3], [6, 9], [0, 3]]
    assert len(ds) == 2


def test_dataset_errors():
    with pytest.raises(ValueError, match=r'\[3, 4\]'):
        optimize.Dataset((np.zeros((3, 2)), np.zeros(4)))
    with pytest.raises(ValueError, match='empty'):
        optimize.Dataset((np.zeros((0, 2)),))
    with pytest.raises(ValueError, match='batch_size'):
        optimize.Dataset((np.zeros(3),), batch_size=0)


def test_dataset_callable_and_generators():
    calls = []

    def batch():
        calls.append(1)
        return np.ones((2, 3)), np.zeros(2, dtype='int64')

    ds = optimize.Dataset(batch, iteration_size=3)
    batches = list(ds)
    assert len(batches) == 3 == len(calls)
    assert batches[0][0].dtype == backend.floatX()
    assert batches[0][1].dtype == np.int32
    assert len(optimize.Dataset(batch)) == 100

    gen = optimize.Dataset((np.full((2, 1), i),) for i in range(5))
    assert [b[0][0, 0] for b in gen] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match='only once'):
        list(gen)

    listed = optimize.Dataset([(np.full(2, i),) for i in range(3)],
                              iteration_size=2)
    assert [[b[0][0] for b in listed] for _ in range(2)] == [[0, 1], [2, 0]]


def test_optimizer_takes_callables_generators_and_int_labels():
    x, labels = TT.matrix('x'), TT.ivector('labels')
    w = backend.shared(np.zeros((5, 2)), 'w')
    probs = TT.special.softmax(x @ w, axis=-1)
    loss = -TT.log(probs[TT.arange(labels.shape[0]), labels]).mean()
    acc = TT.eq(probs.argmax(axis=-1), labels).mean()
    opt = optimize.build('sgd', loss, [w], [x, labels], learning_rate=0.5,
                         monitors=[('acc', acc)])
    y = (X[:, 0] > 0).astype('int64')  # converted to the input's int32
    train, valid = opt.minimize((X, y), batch_size=10, max_updates=60)
    assert valid['acc'] > 0.9 and opt.evaluate((X, y))['acc'] > 0.9

    def batch():
        i = RNG.integers(0, 30, size=8)
        return X[i], y[i]

    opt.minimize(batch, valid=[(X, y)], train_batches=4, max_updates=70,
                 progress=True)
    assert opt.n_updates == 70
    wrong = optimize.Dataset((X, y.astype(float)))
    with pytest.raises(ValueError, match="'labels' expects a 1-d int32"):
        opt.evaluate(wrong)


# -- early stopping ----------------------------------------------------------

class Param:
    """A stand-in for a shared variable."""

    def __init__(self, value):
        self.value = np.asarray(value, dtype=float)

    def get_value(self, borrow=False):
        return self.value if borrow else self.value.copy()

    def set_value(self, value):
        self.value = np.array(value, copy=True)


def test_early_stopping_rule_and_restore():
    param = Param([1.0])
    stop = optimize.EarlyStopping([param], patience=2, min_improvement=0.1)
    results = []
    for epoch, loss in enumerate([10, 9.5, 8.9, 8.5, 8.2, 8.1]):
        param.set_value([loss])
        results.append((stop.update(loss, epoch), stop.should_stop))
    # 9.5 is not 10% better than 10; 8.9 is; then three failures.
    assert results == [(True, False), (False, False), (True, False),
                       (False, False), (False, False), (False, True)]
    assert (stop.best_loss, stop.best_epoch) == (8.9, 2)
    stop.restore()
    assert param.value[0] == 8.9
    state = stop.get_state()
    other = optimize.EarlyStopping([Param([0.0])])
    other.set_state(state)
    assert other.best_loss == 8.9 and other.failures == 3
    other.restore()
    assert other.params[0].value[0] == 8.9


def test_optimizer_stops_when_patience_runs_out():
    loss, params, inputs = regression()
    opt = optimize.build('sgd', loss, params, inputs, learning_rate=1e-9)
    epochs = [e for e, _ in enumerate(opt.iterate(
        (X, Y), batch_size=30, patience=2, validate_every=1,
        min_improvement=0.01))]
    assert len(epochs) == 3 and opt.stopping.failures == 3
    assert opt.stopping.best_epoch == 0
    np.testing.assert_array_equal(params[0].get_value(), 0)


def test_callback_stops_training():
    loss, params, inputs = regression()
    opt = optimize.build('adagrad', loss, params, inputs, learning_rate=0.1)
    calls = []

    def callback(epoch, train, valid):
        calls.append((epoch, train['loss'], valid['loss']))
        return epoch == 4

    opt.minimize((X, Y), callbacks=[callback], validate_every=3)
    assert [c[0] for c in calls] == [1, 2, 3, 4]
    assert calls[0][2] == calls[1][2] == calls[2][2] != calls[3][2]
    assert opt.stopping.best_epoch == 4  # validated when stopping


def test_nonfinite_loss_raises_and_restores():
    loss, params, inputs = regression()
    opt = optimize.build('sgd', loss, params, inputs, learning_rate=1e3)
    with pytest.raises(optimize.NonFiniteLossError, match='epoch'):
        opt.minimize((X, Y), batch_size=5, validate_every=1)
    assert all(np.isfinite(v).all() for v in values(params))


def test_keyboard_interrupt_stops_cleanly_with_best_params():
    loss, params, inputs = regression()
    opt = optimize.build('rmsprop', loss, params, inputs, learning_rate=0.01)

    def interrupt(epoch, train, valid):
        if epoch == 5:
            raise KeyboardInterrupt

    train, valid = opt.minimize((X, Y), validate_every=2,
                                callbacks=[interrupt])
    assert opt.epoch == 5 and opt.stopping.best_epoch == 4
    for value, best in zip(values(params), opt.stopping.best_values):
        np.testing.assert_array_equal(value, best)


def test_each_iterate_starts_a_new_run():
    loss, params, inputs = regression()
    opt = optimize.build('nag', loss, params, inputs, learning_rate=0.01,
                         momentum=0.9)
    opt.minimize((X, Y), batch_size=10, max_updates=4)
    assert (opt.epoch, opt.n_updates) == (2, 4)
    assert np.abs(opt.get_state()['state:w_vel']).max() > 0
    runs = []
    for _ in opt.iterate((X, Y), batch_size=10, max_updates=3):
        runs.append((opt.epoch, opt.n_updates))
        if opt.epoch == 1:
            state = opt.get_state()
    assert runs == [(1, 3)]
    assert state['best_epoch'] == 0 and state['failures'] == 0
    opt.reset()
    assert not np.abs(opt.get_state()['state:w_vel']).any()


def test_state_round_trip_continues_identically():
    def make():
        loss, params, inputs = regression()
        return optimize.build('rmsprop', loss, params, inputs,
                              learning_rate=0.01, momentum=0.5), params

    first, params = make()
    for _ in first.iterate((X, Y), batch_size=30, max_updates=6,
                           validate_every=100):
        if first.epoch == 3:
            saved = first.get_state()
            middle = values(params)
        if first.epoch == 6:
            expected = values(params)
    assert {'state:w_vel', 'state:w_g1_ewma', 'state:b_g2_ewma', 'best:0',
            'epoch', 'updates', 'learning_rate'} <= set(saved)
    buffer = io.BytesIO()
    np.savez(buffer, **saved)
    buffer.seek(0)
    loaded = dict(np.load(buffer, allow_pickle=False))

    second, params2 = make()
    for param, value in zip(params2, middle):
        param.set_value(value)
    second.set_state(loaded)
    assert (second.epoch, second.n_updates) == (3, 3)
    for _ in second.iterate((X, Y), batch_size=30, max_updates=6,
                            validate_every=100):
        if second.epoch == 6:
            for got, want in zip(values(params2), expected):
                np.testing.assert_allclose(got, want, rtol=1e-5)
    assert second.epoch == 6


def test_monitor_repeating_the_loss_is_compiled_once():
    """'err' computes the loss's graph: the step returns it once and the
    monitors still name both."""
    import theanets
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype('f')
    y = (x[:, 0] > 0).astype('i')
    net = theanets.Classifier([4, 3, 2], rng=1)
    tm, vm = next(net.itertrain((x, y), algo='sgd', batch_size=8))
    opt = next(iter(net._optimizers.values()))
    assert opt.monitor_names == ['loss', 'err', 'acc']
    assert len(opt._outputs) == 2 and opt._index == [0, 0, 1]
    assert tm['loss'] == tm['err'] and vm['loss'] == vm['err']
    assert 0 <= tm['acc'] <= 1
