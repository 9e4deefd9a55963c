"""net.train / net.itertrain: keywords, trainers, history, checkpoints."""

import numpy as np
import pytest

import theanets
from theanets.optimize import NonFiniteLossError
from theanets.util import ConfigurationError


@pytest.fixture(scope='module')
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 6)).astype('f')
    y = (x[:, 0] - x[:, 1] > 0).astype('i')
    return x, y


def _clf(**kwargs):
    return theanets.Classifier([6, 8, 2], **kwargs)


def test_train_returns_monitors_and_keeps_history(data):
    net = _clf()
    tm, vm = net.train(data, algo='nag', learning_rate=0.05, momentum=0.9,
                       max_updates=60, batch_size=16, validate_every=2)
    assert list(tm)[:3] == ['loss', 'err', 'acc']
    assert set(vm) == set(tm)
    assert len(net.history) >= 7
    assert net.history[-1][0] == tm
    assert net.history[-1][0]['loss'] < net.history[0][0]['loss']
    assert net.score(*data) > 0.8


def test_itertrain_valid_defaults_to_train(data):
    net = _clf()
    pairs = []
    for tm, vm in net.itertrain(data, algorithm='sgd', learning_rate=0.1,
                                max_updates=40, batch_size=20):
        pairs.append((tm, vm))
    assert len(pairs) >= 5
    assert all('acc' in vm for _, vm in pairs)


def test_misspelled_option_names_the_closest():
    net = _clf()
    x, y = np.zeros((4, 6)), np.zeros(4)
    with pytest.raises(ConfigurationError, match="'min_improvment'.*"
                       "did you mean 'min_improvement'"):
        net.train((x, y), min_improvment=0.1)
    with pytest.raises(ConfigurationError, match="known algorithms.*layerwise"):
        net.train((x, y), algo='adamm')


def test_bad_training_data_is_refused_at_the_door(data):
    net = _clf()
    x, y = data
    with pytest.raises(ValueError, match=r'label 2 is outside \[0, 2\)'):
        net.train((x, y + 1))
    with pytest.raises(ValueError, match='expected 6 features'):
        net.train((x[:, :5], y))
    with pytest.raises(ValueError, match='NaN|nan'):
        bad = x.copy()
        bad[3, 2] = np.nan
        net.train((bad, y))


def test_regularizers_train_only(data):
    net = _clf()
    x, y = data
    tm, _ = net.train(data, algo='sgd', learning_rate=0.05, max_updates=20,
                      hidden_dropout=0.5, weight_l2=1e-3, input_noise=0.1,
                      monitors={'hid1:out': (0.1, 0.9)})
    assert 'hid1:out<0.1' in tm and 'hid1:out<0.9' in tm
    assert tm['loss'] > tm['err']  # weight_l2 adds to the loss
    first = net.predict_proba(x)
    assert np.array_equal(first, net.predict_proba(x))  # no dropout
    opt = next(iter(net._optimizers.values()))
    assert opt.evaluate(data) == opt.evaluate(data)  # validation: no dropout


def test_compiled_optimizer_is_reused(data):
    net = _clf()
    net.train(data, algo='adam', learning_rate=1e-2, max_updates=5)
    count = len(net._optimizers)
    net.train(data, algo='adam', learning_rate=1e-3, max_updates=5)
    assert len(net._optimizers) == count
    opt = next(iter(net._optimizers.values()))
    assert opt.learning_rate == pytest.approx(1e-3)


def test_callback_stops_and_schedule_is_used(data):
    net = _clf()
    seen = []

    def stop(epoch, tm, vm):
        seen.append(epoch)
        return epoch >= 3

    rates = []

    def schedule(updates):
        rates.append(updates)
        return 0.01 / (1 + updates)

    net.train(data, algo='sgd', learning_rate=schedule, callbacks=[stop],
              batch_size=40)
    assert seen == [1, 2, 3]
    assert rates[-1] >= 6


def test_nan_loss_stops_with_best_params(data):
    net = theanets.Regressor([6, 4, 1])
    x, _ = data
    y = np.full((len(x), 1), 1e30, dtype='f')
    with pytest.raises((NonFiniteLossError, ValueError)):
        net.train((x, y), algo='sgd', learning_rate=10.0, max_updates=200)
    assert all(np.isfinite(p.get_value()).all() for p in net.params)


def test_callable_and_iterable_data(data):
    x, y = data
    rng = np.random.default_rng(1)

    def batch():
        idx = rng.integers(0, len(x), size=16)
        return x[idx], y[idx]

    net = _clf()
    tm, _ = net.train(batch, (x, y), algo='sgd', learning_rate=0.1,
                      train_batches=5, max_updates=20)
    assert np.isfinite(tm['loss'])
    batches = [(x[i:i + 30], y[i:i + 30]) for i in range(0, 120, 30)]
    tm, _ = net.train(batches, algo='sgd', learning_rate=0.1, max_updates=8)
    assert np.isfinite(tm['loss'])


def test_checkpoints_and_resume(data, tmp_path):
    path = tmp_path / 'ckpt.theanets'
    net = _clf(rng=3)
    net.train(data, algo='nag', learning_rate=0.05, momentum=0.9,
              max_updates=16, batch_size=40, save_progress=str(path),
              save_every=1)
    assert path.exists()
    saved = theanets.Network.load(path)
    for p, q in zip(net.params, saved.params):
        assert np.allclose(p.get_value(), q.get_value())

    fresh = _clf(rng=99)
    fresh.train(data, algo='nag', learning_rate=0.05, momentum=0.9,
                max_updates=16, batch_size=40, save_progress=str(path),
                save_every=1, resume=True)
    opt = next(iter(fresh._optimizers.values()))
    assert opt.n_updates >= 16
    assert len(fresh.history) == len(net.history)  # nothing left to train
    for p, q in zip(net.params, fresh.params):
        assert np.allclose(p.get_value(), q.get_value())


def test_checkpoint_path_with_time(data, tmp_path):
    net = _clf()
    net.train(data, algo='sgd', max_updates=8, batch_size=40,
              save_progress=str(tmp_path / 'run-{}.theanets'), save_every=1)
    assert list(tmp_path.glob('run-*.theanets'))


def test_layerwise_trainer(data):
    net = theanets.Classifier([6, 5, 4, 2])
    stages = list(net.itertrain(data, algo='layerwise', subalgo='sgd',
                                learning_rate=0.05, max_updates=10,
                                batch_size=40))
    assert len(stages) >= 6
    assert [l.name for l in net.layers] == ['in', 'hid1', 'hid2', 'out']
    assert net.losses[0].output_name == 'out:out'
    assert net.predict(data[0]).shape == (120,)


def test_pretrain_trainer_changes_hidden_weights_only(data):
    net = theanets.Classifier([6, 5, 4, 2])
    before = {p.name: p.get_value().copy() for p in net.params}
    list(net.itertrain(data, algo='pretrain', subalgo='sgd',
                       learning_rate=0.05, max_updates=10, batch_size=40))
    assert not np.allclose(before['hid1.w'], net.find('hid1', 'w').get_value())
    assert np.allclose(before['out.w'], net.find('out', 'w').get_value())


def test_sample_trainer_sets_unit_columns(data):
    net = _clf()
    tm, vm = net.train(data, algo='sample')
    w = net.find('hid1', 'w').get_value()
    assert np.allclose(np.sqrt((w * w).sum(axis=0)), 1, atol=1e-5)
    assert np.isfinite(tm['loss'])


@pytest.mark.parametrize('model, arrays', [
    ('Regressor', lambda x, y: (x, np.eye(2, dtype='f')[y])),
    ('Autoencoder', lambda x, y: (x,)),
])
def test_other_models_train(data, model, arrays):
    layers = [6, 4, 2] if model == 'Regressor' else [6, 3, 6]
    net = getattr(theanets, model)(layers)
    tm, _ = net.train(arrays(*data), algo='rmsprop', learning_rate=1e-2,
                      max_updates=40, batch_size=20)
    assert tm['loss'] < net.history[0][1]['loss'] * 1.01


def test_weighted_classifier_ignores_zero_weights(data):
    x, y = data
    w = np.ones(len(y), dtype='f')
    w[:60] = 0
    net = _clf(weighted=True)
    net.train((x, y, w), algo='sgd', learning_rate=0.1, max_updates=10,
              batch_size=40)
    tm, _ = net.train((x, y, w), algo='sgd', max_updates=1, batch_size=120)
    scrambled = y.copy()
    scrambled[:60] = 1 - scrambled[:60]
    tm2, _ = net.train((x, scrambled, w), algo='sgd', max_updates=1,
                       batch_size=120, learning_rate=1e-12)
    assert tm['err'] == pytest.approx(tm2['err'], rel=1e-4)


def test_class_names_are_not_algorithms(data):
    with pytest.raises(ConfigurationError, match='unknown algorithm'):
        _clf().train(data, algo='downhilltrainer')
