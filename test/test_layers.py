"""Layer specs, the layer registry and each feedforward layer form."""

import numpy as np
import pytest

import theanets
from theanets import layers
from theanets.layers import parse_spec
from theanets.util import ConfigurationError


@pytest.mark.parametrize('spec, expected', [
    (100, {'size': 100}),
    ((100, 'tanh'), {'size': 100, 'activation': 'tanh'}),
    (('tanh', 100), {'size': 100, 'activation': 'tanh'}),
    ((6, 'linear', 'classifier'), {'size': 6, 'activation': 'linear',
                                   'form': 'classifier'}),
    ((6,), {'size': 6}),
    ((6, 'tied'), {'size': 6, 'form': 'tied'}),
    ((28, 28, 1), {'shape': (28, 28, 1)}),
    (dict(size=6, form='ff'), {'size': 6, 'form': 'ff'}),
    (dict(shape=[6, 7]), {'shape': (6, 7)}),
    ('flat', {'form': 'flat'}),
    ('flatten', {'form': 'flatten'}),
])
def test_parse_spec(spec, expected):
    assert parse_spec(spec) == expected


def test_parse_spec_layer_instance_is_kept():
    layer = layers.Feedforward(size=3, inputs={'in:out': 2}, name='h')
    assert parse_spec(layer) is layer


@pytest.mark.parametrize('spec, match', [
    ('nosuchform', 'known forms'),
    (0, 'positive'),
    (-3, 'positive'),
    (True, 'invalid'),
    ((3, 'ff', 'tied'), 'two forms'),
    ((3, 'relu', 'tanh'), 'two activations'),
    (3.5, 'invalid layer spec'),
])
def test_parse_spec_errors(spec, match):
    with pytest.raises(ConfigurationError, match=match):
        parse_spec(spec)


def test_unknown_form_lists_known_ones():
    with pytest.raises(ConfigurationError, match='feedforward'):
        layers.Layer.lookup('feedfoward')
    with pytest.raises(ConfigurationError, match="did you mean 'feedforward'"):
        theanets.Regressor([3, dict(size=2, form='feedfoward')])


def test_unknown_layer_option():
    with pytest.raises(ConfigurationError, match="'colour'"):
        theanets.Regressor([3, dict(size=2, colour='red')])


def test_default_names_and_activations():
    net = theanets.Classifier([4, 5, (6, 'tanh'), 3])
    assert [l.name for l in net.layers] == ['in', 'hid1', 'hid2', 'out']
    assert [l.activation for l in net.layers[1:]] == ['relu', 'tanh', 'softmax']
    assert theanets.Regressor([4, 3]).layers[-1].activation == 'linear'
    assert theanets.Autoencoder([4, 2, 4]).layers[-1].activation == 'linear'


def test_weight_shapes_and_glorot_scale():
    net = theanets.Regressor([400, 100, 2])
    w = net.find('hid1', 'w').get_value()
    assert w.shape == (400, 100)
    assert w.dtype == np.float32
    assert abs(w.std() - np.sqrt(2 / 500)) < 0.005
    assert np.all(net.find('hid1', 'b').get_value() == 0)


def test_init_options():
    net = theanets.Regressor([
        10, dict(size=10, std=0.5, mean_b=2, sparsity_w=0.5),
        dict(size=10, diagonal=3), dict(size=10, radius=0.9), 1])
    w1 = net.find('hid1', 'w').get_value()
    assert 0.3 < (w1 == 0).mean() < 0.7
    assert np.all(net.find('hid1', 'b').get_value() == 2)
    assert np.allclose(net.find('hid2', 'w').get_value(), 3 * np.eye(10))
    w3 = net.find('hid3', 'w').get_value()
    assert np.isclose(np.abs(np.linalg.eigvals(w3)).max(), 0.9, atol=1e-4)


def test_rng_makes_init_reproducible():
    a = theanets.Regressor([3, 4, 2], rng=5).find('hid1', 'w').get_value()
    b = theanets.Regressor([3, 4, 2], rng=5).find('hid1', 'w').get_value()
    c = theanets.Regressor([3, 4, 2], rng=6).find('hid1', 'w').get_value()
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_find_errors_name_what_exists():
    net = theanets.Regressor([3, 4, 2])
    with pytest.raises(KeyError, match='in, hid1, out'):
        net.find('hid3', 'w')
    with pytest.raises(KeyError, match='w, b'):
        net.find('hid1', 'x')
    assert net.find(1, 0) is net.find('hid1', 'w')
    assert net.find(-1, 'b') is net.find('out', 'b')


def test_graph_inputs_and_multiple_weights():
    net = theanets.Regressor([
        3, 4, dict(size=2, inputs=('in:out', 'hid1:out'), name='out')])
    out = net.layers[-1]
    assert [p.name for p in out.params] == ['out.w_in', 'out.w_hid1', 'out.b']
    x = np.random.default_rng(0).normal(size=(5, 3)).astype('f')
    ff = net.feed_forward(x)
    expect = (x @ net.find('out', 'w_in').get_value() +
              ff['hid1:out'] @ net.find('out', 'w_hid1').get_value() +
              net.find('out', 'b').get_value())
    assert np.allclose(ff['out:out'], expect, atol=1e-5)


def test_reading_an_unknown_output_is_an_error():
    with pytest.raises(ConfigurationError, match='hid7:out'):
        theanets.Regressor([3, dict(size=2, inputs='hid7')])


def test_duplicate_names_are_an_error():
    with pytest.raises(ConfigurationError, match='unique'):
        theanets.Regressor([3, dict(size=2, name='a'), dict(size=2, name='a')])


def test_tied_autoencoder_shares_weights():
    net = theanets.Autoencoder([6, 4, 2, ('tied', 4), ('tied', 6)])
    assert net.layers[3].partner is net.layers[2]
    assert net.layers[4].partner is net.layers[1]
    names = [p.name for p in net.params]
    assert names == ['hid1.w', 'hid1.b', 'hid2.w', 'hid2.b', 'hid3.b', 'out.b']
    x = np.random.default_rng(1).uniform(size=(3, 6))
    ff = net.feed_forward(x)
    w1 = net.find('hid1', 'w').get_value()
    expect = ff['hid3:out'] @ w1.T + net.find('out', 'b').get_value()
    assert np.allclose(ff['out:out'], expect, atol=1e-5)


def test_tied_layer_size_mismatch():
    with pytest.raises(ConfigurationError, match='partner'):
        theanets.Autoencoder([6, 4, dict(form='tied', size=5, partner='hid1')])


def test_shape_layers():
    net = theanets.Regressor([
        dict(shape=(2, 3)), 'flat', dict(form='reshape', shape=(3, 2)),
        dict(form='flatten', name='f2'),
        dict(size=6, form='concatenate', inputs=('hid1:out', 'f2:out')),
        dict(size=6, form='product', inputs=('hid1:out', 'f2:out')), 2])
    x = np.arange(12, dtype='f').reshape(2, 2, 3)
    ff = net.feed_forward(x)
    assert ff['hid1:out'].shape == (2, 6)
    assert ff['hid2:out'].shape == (2, 3, 2)
    assert ff['hid4:out'].shape == (2, 12)
    assert np.allclose(ff['hid5:out'], ff['hid1:out'] ** 2)
    assert ff['out:out'].shape == (2, 2)


def test_flat_layer_checks_a_given_size():
    net = theanets.Regressor([dict(shape=(2, 3)), ('flat', 6), 2])
    assert net.layers[1].size == 6
    with pytest.raises(ConfigurationError, match=r'size=5.*holds 6 values'):
        theanets.Regressor([dict(shape=(2, 3)), ('flat', 5), 2])


def test_user_layer_subclass_registers():
    class Doubler(layers.Layer):
        def setup(self):
            self.size = self.input_size

        def transform(self, inputs):
            return 2 * self._only_input(inputs)

    net = theanets.Regressor([3, dict(form='doubler'), 3])
    assert isinstance(net.layers[1], Doubler)
    x = np.ones((2, 3), 'f')
    assert np.allclose(net.feed_forward(x)['hid1:out'], 2)
