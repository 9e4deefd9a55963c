"""The user-level flow of each model: build, predict, score, validate."""

import numpy as np
import pytest

import theanets
from theanets.util import ConfigurationError


@pytest.fixture(scope='module')
def clf():
    return theanets.Classifier(layers=[784, 100, 10])


@pytest.fixture(scope='module')
def images():
    return np.random.default_rng(3).uniform(size=(7, 784))


def test_the_promise(clf, images):
    labels = clf.predict(images)
    assert labels.shape == (7,) and labels.dtype.kind == 'i'
    assert ((0 <= labels) & (labels < 10)).all()
    probs = clf.predict_proba(images)
    assert probs.shape == (7, 10)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    assert np.array_equal(probs.argmax(axis=1), labels)
    assert clf.find('hid1', 'w').get_value().shape == (784, 100)
    outs = clf.feed_forward(images)
    assert set(outs) == {'in:out', 'hid1:pre', 'hid1:out', 'out:pre', 'out:out'}
    assert np.allclose(outs['hid1:out'], np.maximum(0, outs['hid1:pre']))
    logits = clf.predict_logit(images)
    assert np.allclose(logits, outs['out:pre'], atol=1e-5)


def test_feed_forward_matches_numpy(clf, images):
    w1, b1 = (clf.find('hid1', p).get_value() for p in 'wb')
    w2, b2 = (clf.find('out', p).get_value() for p in 'wb')
    h = np.maximum(0, images @ w1 + b1)
    z = h @ w2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    assert np.allclose(clf.predict_proba(images), p, atol=1e-5)


def test_compiled_functions_are_cached(clf, images):
    clf.predict(images)
    count = len(clf._functions)
    clf.predict(images[:3])
    clf.predict_proba(images)
    assert len(clf._functions) == count


def test_large_inputs_are_batched(clf, monkeypatch):
    from theanets import graph
    monkeypatch.setattr(graph, 'PREDICT_BATCH', 4)
    x = np.random.default_rng(0).uniform(size=(10, 784))
    full = clf.predict_proba(x)
    assert full.shape == (10, 10)
    assert np.allclose(full[:3], clf.predict_proba(x[:3]), atol=1e-6)


def test_inputs_are_cast(clf, images):
    as64 = clf.predict_proba(images.astype(np.float64))
    as32 = clf.predict_proba(images.astype(np.float32))
    assert np.allclose(as64, as32)
    ints = clf.predict(np.ones((2, 784), dtype=np.int64))
    assert ints.shape == (2,)


@pytest.mark.parametrize('x, match', [
    (np.zeros((3, 787)), 'expected 784 features .* got 787'),
    (np.zeros(784), r'expected a 2-D array .* x\[None\]'),
    (np.zeros((2, 28, 28)), 'expected a 2-D array'),
    (np.full((2, 784), np.nan), 'NaN'),
    (np.full((2, 784), np.inf), 'finite'),
    (np.zeros((0, 784)), 'no samples'),
    (np.array([['a'] * 784]), 'numbers'),
])
def test_bad_inputs(clf, x, match):
    with pytest.raises(ValueError, match=match):
        clf.predict(x)


def test_classifier_score_and_label_checks(clf, images):
    labels = clf.predict(images)
    assert clf.score(images, labels) == 1.0
    wrong = (labels + 1) % 10
    assert clf.score(images, wrong) == 0.0
    w = np.zeros(7)
    w[0] = 1
    mixed = wrong.copy()
    mixed[0] = labels[0]
    assert clf.score(images, mixed, w) == 1.0
    with pytest.raises(ValueError, match=r'label 10 is outside \[0, 10\)'):
        clf.score(images, np.full(7, 10))
    with pytest.raises(ValueError, match='label -1'):
        clf.score(images, np.full(7, -1))
    with pytest.raises(ValueError, match='same number of samples'):
        clf.score(images, labels[:5])
    with pytest.raises(ValueError, match='one-hot'):
        clf.score(images, np.eye(10)[labels])
    with pytest.raises(ValueError, match='whole numbers'):
        clf.score(images, labels + 0.5)


def test_check_data_for_training(clf, images):
    x, y = clf.check_data((images, np.arange(7) % 10))
    assert x.dtype == np.float32 and y.dtype == np.int32
    with pytest.raises(ValueError, match='expects 2 arrays'):
        clf.check_data((images,))
    with pytest.raises(ValueError, match='same number'):
        clf.check_data((images, np.zeros(6)))


def test_regressor_score_and_targets():
    net = theanets.Regressor([3, 4, 2])
    x = np.random.default_rng(0).normal(size=(20, 3))
    p = net.predict(x)
    assert p.shape == (20, 2)
    assert net.score(x, p) == pytest.approx(1.0)
    y = p + np.random.default_rng(1).normal(size=p.shape)
    manual = 1 - ((y - p) ** 2).sum() / ((y - y.mean(0)) ** 2).sum()
    assert net.score(x, y) == pytest.approx(manual, rel=1e-4)
    with pytest.raises(ValueError, match=r'expected 2 outputs .* got 3'):
        net.score(x, np.zeros((20, 3)))
    with pytest.raises(ValueError, match='weights: expected a 2-D array'):
        net.score(x, y, np.ones(20))
    with pytest.raises(ValueError, match='negative'):
        net.score(x, y, -np.ones((20, 2)))


def test_weighted_models_take_weights():
    net = theanets.Regressor([3, 2], weighted=True)
    assert [v.name for v in net.variables] == ['in', 'targets', 'weights']
    clf = theanets.Classifier([3, 2], weighted=True)
    assert [v.name for v in clf.variables] == ['in', 'labels', 'weights']
    ae = theanets.Autoencoder([3, 2, 3], weighted=True)
    assert [v.name for v in ae.variables] == ['in', 'weights']
    x = np.ones((4, 3))
    ae.check_data((x, np.ones((4, 3))))
    with pytest.raises(ValueError, match='weights'):
        ae.check_data((x, np.ones(4)))


def test_autoencoder_encode_decode():
    net = theanets.Autoencoder([5, 4, 2, 4, 5])
    x = np.random.default_rng(2).uniform(size=(6, 5))
    z = net.encode(x)
    assert z.shape == (6, 2)
    assert np.allclose(z, net.feed_forward(x)['hid2:out'], atol=1e-6)
    assert np.allclose(net.decode(z), net.predict(x), atol=1e-5)
    assert net.encode(x, layer='hid1').shape == (6, 4)
    assert np.isfinite(net.score(x))


def test_losses_are_shared_and_added():
    net = theanets.Regressor([3, 4, 2])
    net.add_loss('mae', weight=0.1)
    assert len(net.losses) == 2
    assert [v.name for v in net.variables] == ['in', 'targets']
    with pytest.raises(ConfigurationError, match='known loss'):
        net.add_loss('nosuchloss')


def test_build_graph_and_loss_expressions():
    net = theanets.Classifier([3, 4, 2])
    outputs, updates = net.build_graph()
    assert 'hid1:out' in outputs and updates == []
    names = [name for name, _ in net.monitors()]
    assert names[:2] == ['err', 'acc']
    names = [name for name, _ in net.monitors(
        monitors={'hid1:out': (0.1, 0.9), '*.w': 0.5})]
    assert names[2:] == ['hid1:out<0.1', 'hid1:out<0.9', 'hid1.w<0.5',
                         'out.w<0.5']
    assert net.loss().ndim == 0


def test_model_needs_input_and_output():
    with pytest.raises(ConfigurationError, match='at least an input'):
        theanets.Regressor([3])
    with pytest.raises(ConfigurationError, match='first layer'):
        net = theanets.Regressor()
        net.add_layer(dict(form='ff', size=3))


def test_constructor_details():
    assert theanets.Regressor([3, 2], rng=None).find('out', 'w') is not None
    assert theanets.Regressor([3, 2], weight=0.5).losses[0].weight == 0.5
    net = theanets.Regressor([3, (4, 'classifier')])
    assert net.layers[-1].activation == 'softmax'
    with pytest.raises(ConfigurationError, match='output shape must be'):
        theanets.Autoencoder([10, 5, 8])
    with pytest.raises(ConfigurationError, match="'std_ww' names no parameter"):
        theanets.Regressor([3, dict(size=2, std_ww=0.1)])


def test_predict_keywords(clf, images):
    with pytest.raises(ConfigurationError, match="'hiden_dropout'"):
        clf.predict(images, hiden_dropout=0.5)
    noisy = clf.predict_proba(images, input_noise=1.0)
    assert not np.allclose(noisy, clf.predict_proba(images))


def test_loss_on_a_hidden_output_with_its_own_target():
    net = theanets.Regressor([3, 4, 2])
    net.add_loss('mse', output_name='hid1', target=2, weight=0.1)
    assert [v.name for v in net.variables] == ['in', 'targets', 'targets']
    rng = np.random.default_rng(0)
    x, y, h = (rng.normal(size=(10, n)) for n in (3, 2, 4))
    tm, _ = net.train((x, y, h), algo='sgd', max_updates=2)
    assert np.isfinite(tm['loss'])
    with pytest.raises(ValueError, match='expected 4 outputs'):
        net.check_data((x, y, y))
