"""Convolution and pooling layers and the convolutional models.

Shapes are checked against numpy references on tiny inputs; several layer
configurations read the same input inside one model, so that one compiled
function checks them all (these tests run in FAST_COMPILE mode).
"""

import importlib.util

import numpy as np
import pytest

import theanets
from theanets import convolution, recurrent
import theanets.layers.convolution  # noqa: F401 (registers the forms)
from theanets.util import ConfigurationError

# (spec, expected output shape) for a (5, 6, 2) input.
IMAGE_LAYERS = [
    (dict(form='conv2', size=3, filter_size=(3, 2)), (3, 5, 3)),
    (dict(form='conv2', size=2, filter_size=3, stride=2, border_mode='same'),
     (3, 3, 2)),
    (dict(form='conv2', size=2, filter_size=(2, 3), border_mode='full'),
     (6, 8, 2)),
    (dict(form='pool2', pool_size=2), (2, 3, 2)),
    (dict(form='pool2', pool_size=(2, 4), ignore_border=False), (3, 2, 2)),
    (dict(form='pool2', pool_size=3, stride=1, mode='mean'), (3, 4, 2)),
    (dict(form='pool2', pool_size=4, mode='mean', ignore_border=False),
     (2, 2, 2)),
]


def _conv_ref(x, w, b, stride=(1, 1)):
    """Reference 'valid' convolution, channels last."""
    fh, fw = w.shape[:2]
    rows = range(0, x.shape[1] - fh + 1, stride[0])
    cols = range(0, x.shape[2] - fw + 1, stride[1])
    return np.stack([np.stack([
        np.einsum('nabc,abck->nk', x[:, i:i + fh, j:j + fw], w) + b
        for j in cols], axis=1) for i in rows], axis=1)


def _pool_ref(x, size, stride, mode, pad):
    """Reference pooling; ``pad`` pads the end so windows cover all."""
    rows, cols = x.shape[1], x.shape[2]
    out_r = range(0, max(rows - size[0], 0) + (stride[0] if pad else 1),
                  stride[0])
    out_c = range(0, max(cols - size[1], 0) + (stride[1] if pad else 1),
                  stride[1])
    reduce = np.max if mode == 'max' else np.mean
    return np.stack([np.stack([
        reduce(x[:, i:i + size[0], j:j + size[1]], axis=(1, 2))
        for j in out_c], axis=1) for i in out_r], axis=1)


@pytest.fixture(scope='module')
def parallel():
    """One model whose hidden layers all read the (5, 6, 2) input."""
    layers = [(5, 6, 2)]
    for i, (spec, _) in enumerate(IMAGE_LAYERS):
        layers.append(dict(spec, name=f'l{i}', inputs='in',
                           activation='linear'))
    layers += [dict(form='flat', inputs='l0'), 3]
    net = convolution.Regressor(layers)
    x = np.random.default_rng(2).normal(size=(2, 5, 6, 2))
    return net, x, net.feed_forward(x)


@pytest.mark.parametrize('index', range(len(IMAGE_LAYERS)))
def test_image_layer_shapes_and_values(parallel, index):
    net, x, outs = parallel
    spec, shape = IMAGE_LAYERS[index]
    layer = net.find_layer(f'l{index}')
    assert layer.output_shape == shape  # known without a graph
    got = outs[f'l{index}:out']
    assert got.shape == (2,) + shape
    if spec['form'] == 'conv2':
        w, b = layer.find('w').get_value(), layer.find('b').get_value()
        assert w.shape == layer.filter_size + (2, spec['size'])
        pads = [(0, 0)] + layer._pads() + [(0, 0)]
        expect = _conv_ref(np.pad(x, pads), w, b, layer.stride)
    else:
        expect = _pool_ref(x, layer.pool_size, layer.stride, layer.mode,
                           not layer.ignore_border)
    assert np.allclose(got, expect, atol=1e-5)


def test_conv1_and_pool1_over_variable_time():
    net = recurrent.Regressor([
        3, dict(form='conv1', size=4, filter_size=3, border_mode='same'),
        dict(form='pool1', pool_size=2, ignore_border=False, mode='mean'),
        dict(form='conv1', size=2, filter_size=2, stride=2)])
    assert [layer.output_shape for layer in net.layers[1:]] == [
        (None, 4), (None, 4), (None, 2)]
    rng = np.random.default_rng(0)
    for steps, expect in ((7, 2), (4, 1)):
        outs = net.feed_forward(rng.normal(size=(2, steps, 3)))
        assert outs['hid1:out'].shape == (2, steps, 4)
        assert outs['hid2:out'].shape == (2, (steps + 1) // 2, 4)
        assert outs['out:out'].shape == (2, expect, 2)
        h = outs['hid1:out']
        assert np.allclose(outs['hid2:out'][:, 0], h[:, :2].mean(axis=1),
                           atol=1e-5)
        assert np.allclose(outs['hid2:out'][:, -1], h[:, 2 * (len(
            outs['hid2:out'][0]) - 1):].mean(axis=1), atol=1e-5)


@pytest.fixture(scope='module')
def tiny_images():
    """A 6x6 task: is the bright blob in the left or the right half?"""
    rng = np.random.default_rng(4)
    y = rng.integers(2, size=40).astype('int32')
    x = rng.normal(0, 0.3, size=(40, 6, 6, 1))
    for i, label in enumerate(y):
        col = rng.integers(3) + 3 * label
        x[i, rng.integers(5), col] += 2
    return x.astype('f'), y


def test_classifier_learns_and_gradients_reach_every_param(tiny_images):
    x, y = tiny_images
    net = convolution.Classifier([
        (6, 6, 1), dict(form='conv2', size=3, filter_size=(3, 3)),
        dict(form='pool2', pool_size=(2, 2)), 'flat', 2])
    initial = [p.get_value() for p in net.params]
    before = net.score(x, y)
    net.train((x, y), algo='adam', learning_rate=0.05, max_updates=30,
              batch_size=40)
    assert net.history[-1][0]['loss'] < net.history[0][0]['loss']
    assert net.score(x, y) > max(before, 0.7)
    assert net.predict(x).shape == (40,)
    for param, value in zip(net.params, initial):  # adam moves every
        assert not np.allclose(param.get_value(), value), param.name


def test_regressor(tiny_images):
    x, _ = tiny_images
    y = x.mean(axis=(1, 2))
    net = convolution.Regressor([(6, 6, 1), dict(
        form='conv2', size=2, filter_size=2, stride=2), 'flat', 1])
    assert net.layers[1].output_shape == (3, 3, 2)
    net.train((x, y), max_updates=2, batch_size=40)
    assert net.predict(x).shape == (40, 1)


def test_save_load_round_trip(tmp_path, tiny_images):
    x, _ = tiny_images
    net = convolution.Classifier([
        (6, 6, 1), dict(form='conv2', size=2, filter_size=3, stride=(1, 2),
                        border_mode='same'),
        dict(form='pool2', pool_size=2, mode='mean', ignore_border=False),
        'flat', 2])
    path = tmp_path / 'conv.zip'
    net.save(path)
    back = theanets.Network.load(path)
    assert type(back) is convolution.Classifier
    assert back.layers[1].to_spec() == net.layers[1].to_spec()
    assert back.layers[2].to_spec() == net.layers[2].to_spec()
    assert np.allclose(back.predict_proba(x[:3]), net.predict_proba(x[:3]),
                       atol=1e-6)


def test_input_errors_name_the_expected_shape():
    net = convolution.Classifier([(6, 6, 1), dict(
        form='conv2', size=2, filter_size=3), 'flat', 2])
    with pytest.raises(ValueError, match=r'\(n, 6, 6, 1\).*x\.reshape'):
        net.predict(np.zeros((3, 36)))
    with pytest.raises(ValueError, match=r'\(n, 6, 6, 1\).*x\[None\]'):
        net.predict(np.zeros((6, 6, 1)))
    with pytest.raises(ValueError, match=r'channels-first.*transpose\(0, 2, 3, 1\)'):
        net.predict(np.zeros((3, 1, 6, 6)))
    with pytest.raises(ConfigurationError, match=r"\('flat', N\).*\(28, 28, 1\)"):
        convolution.Classifier([1, dict(form='conv2', size=2,
                                        filter_size=3), 'flat', 2])
    with pytest.raises(ConfigurationError,
                       match=r'\(n, height, width, channels\)'):
        theanets.Classifier([36, dict(form='conv2', size=2, filter_size=3), 2])


@pytest.mark.parametrize('spec, match', [
    (dict(form='conv2', size=2), 'filter_size'),
    (dict(form='conv2', filter_size=3), 'needs a size'),
    (dict(form='conv2', size=2, filter_size=(3, 3, 3)), '2 positive'),
    (dict(form='conv2', size=2, filter_size=7), 'does not fit'),
    (dict(form='conv2', size=2, filter_size=3, border_mode='half'), 'same'),
    (dict(form='pool2', pool_size=2, mode='median'), 'max or mean'),
    (dict(form='pool2', pool_size=8), 'does not fit'),
    (dict(form='convolution', size=2, filter_size=3), 'conv1'),
    (dict(form='conv3', size=2), 'known layer forms'),
])
def test_layer_errors(spec, match):
    with pytest.raises(ConfigurationError, match=match):
        convolution.Regressor([(6, 6, 1), spec, 'flat', 1])


# -- code written for the original theanets ---------------------------------


def _theano_conv(x, w, b):
    """Theano's 'valid' conv2d (flipped filters) on channels-last images,
    with the original's ``w`` of shape ``(filters, channels, rows, cols)``."""
    return _conv_ref(x, w[:, :, ::-1, ::-1].transpose(2, 3, 1, 0), b)


def test_original_spec_channel_count_and_sized_flat(tiny_images):
    x, y = tiny_images  # the original's examples/mnist-convolution.py, small
    net = convolution.Classifier([
        1, dict(form='conv2', size=4, filter_size=(3, 3)),
        ('flat', 4 * 4 * 4), 2])
    assert [l.output_shape for l in net.layers] == [
        (None, None, 1), (None, None, 4), (64,), (2,)]
    net.train((x, y), (x, y), algo='sgd', max_updates=2, batch_size=20)
    assert net.predict(x).shape == (40,)
    # the same weights with the shape given: the same outputs
    sized = convolution.Classifier([
        (6, 6, 1), dict(form='conv2', size=4, filter_size=(3, 3)), 'flat', 2])
    sized.load_weights({p.name: p.get_value() for p in net.params})
    assert np.allclose(sized.predict_proba(x), net.predict_proba(x),
                       atol=1e-5)
    with pytest.raises(ValueError, match=r'5x4x4 = 80.*size is 64'):
        net.predict(np.zeros((2, 7, 6, 1)))


def test_original_filters_load_and_compute_the_same(tmp_path, tiny_images):
    x, _ = tiny_images
    x = x[:4]
    net = convolution.Regressor([(6, 6, 1), dict(
        form='conv2', size=3, filter_size=(3, 2), activation='linear'),
        'flat', 1])
    rng = np.random.default_rng(1)
    old = {'hid1.w': rng.normal(size=(3, 1, 3, 2)).astype('f'),
           'hid1.b': rng.normal(size=3).astype('f')}
    for p in net.params[2:]:
        old[p.name] = p.get_value()
    np.savez(tmp_path / 'old.npz', **old)
    net.load_weights(convolution.original_weights(net, tmp_path / 'old.npz'))
    w = net.find('hid1', 'w').get_value()
    assert w.shape == (3, 2, 1, 3)
    assert np.allclose(convolution.to_theano_filters(w), old['hid1.w'])
    got = net.feed_forward(x)['hid1:pre']
    assert np.allclose(got, _theano_conv(x, old['hid1.w'], old['hid1.b']),
                       atol=1e-5)
    # conv1: the original's (filters, channels, 1, length)
    w1 = rng.normal(size=(2, 3, 1, 4))
    new = convolution.from_theano_filters(w1, ndim=1)
    assert new.shape == (4, 3, 2)
    assert np.allclose(new[:, :, 0], w1[0, :, 0, ::-1].T)
    with pytest.raises(ValueError, match='ndim=1'):
        convolution.from_theano_filters(np.zeros((2, 3, 2, 4)), ndim=1)


@pytest.mark.skipif(importlib.util.find_spec('jax') is None,
                    reason='jax is not installed')
def test_jax_mode_agrees_with_python_mode(monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4, 6, 7, 2)).astype('f')
    y = rng.integers(3, size=4).astype('int32')
    layers = [(6, 7, 2), dict(form='conv2', size=2, filter_size=3, stride=2,
                              border_mode='same'),
              dict(form='pool2', pool_size=(2, 3), ignore_border=False,
                   mode='mean'),
              dict(form='conv2', size=2, filter_size=(1, 2)),
              dict(form='pool2', pool_size=1), 'flat', 3]
    results = []
    for mode in ('python', 'jax'):
        monkeypatch.setattr(theanets.config, 'mode', mode)
        net = convolution.Classifier(layers)
        net.train((x, y), algo='sgd', learning_rate=0.1, max_updates=2,
                  batch_size=4)
        results.append(net.predict_proba(x))
    assert np.allclose(results[0], results[1], atol=1e-5)
