"""Convolution and pooling layers and the convolutional models.

Shapes are checked against numpy references on tiny inputs; several layer
configurations read the same input inside one model, so that one compiled
function checks them all (these tests run in FAST_COMPILE mode).
"""

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
    with pytest.raises(ConfigurationError, match=r'\(28, 28, 1\)'):
        convolution.Classifier([36, dict(form='conv2', size=2,
                                         filter_size=3), 2])
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
