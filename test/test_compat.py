"""Code written for the original theanets (0.7/0.8) runs unchanged."""

import io
import logging

import numpy as np
import pytest

import theanets
import theanets.util
from theanets.backend import TT


@pytest.fixture(scope='module')
def data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, 4)).astype('f')
    y = (x[:, 0] > x[:, 1]).astype('uint8')  # the old examples used uint8
    return x, y


def test_experiment_wraps_a_model_and_train_defaults(data):
    exp = theanets.Experiment(theanets.Classifier, layers=(4, 5, 2),
                              train_batches=2, max_updates=6)
    assert isinstance(exp.network, theanets.Classifier)
    tm, vm = exp.train(data, data, algo='sgd', learning_rate=0.05)
    assert 'acc' in vm
    pairs = list(exp.itertrain(data, algorithm='sgd', batch_size=20))
    assert len(pairs) == 3  # 6 updates, 2 batches an epoch


def test_log_formats_with_braces(caplog):
    with caplog.at_level(logging.INFO, logger='theanets'):
        theanets.log('epoch {} loss {:.2f}', 3, 0.25)
    assert 'epoch 3 loss 0.25' in caplog.text


def test_configuration_error_names():
    assert theanets.ConfigurationError is theanets.util.ConfigurationError
    with pytest.raises(theanets.util.ConfigurationError):
        theanets.Classifier([4, ('nosuchactivation', 3)])


def test_original_spec_forms():
    net = theanets.Classifier([4, (6,), (6, 'linear', 'classifier'),
                               dict(size=6, form='ff', std_w=0.01, mean_b=1)
                               , 2])
    assert net.layers[2].activation == 'linear'
    assert type(net.layers[2]).__name__ == 'Classifier'
    assert np.all(net.find('hid3', 'b').get_value() == 1)
    assert net.find('hid3', 'w').get_value().std() < 0.02


def test_user_subclasses_register_by_lowercase_name(data):
    class WeightInverse(theanets.Regularizer):
        def loss(self, layers, outputs):
            return sum((1 / (p * p).sum()) for l in layers for p in l.params
                       if p.ndim > 1)

    class Cube(theanets.Activation):
        def __call__(self, x):
            return x ** 3

    class Quartic(theanets.Loss):
        def __call__(self, outputs, inputs=None):
            err = outputs[self.output_name] - self.target_variable
            return (err ** 4).mean()

    class Doubler(theanets.layers.Feedforward):
        def transform(self, inputs):
            out = super().transform(inputs)
            return dict(pre=out['pre'], out=2 * out['out'])

    net = theanets.Regressor([4, dict(size=3, form='doubler', activation='cube'),
                              2], loss='quartic')
    x, y = data
    targets = np.stack([y, 1 - y], axis=1).astype('f')
    tm, _ = net.train((x / 10, targets), algo='sgd', learning_rate=1e-4,
                      max_gradient_norm=1, max_updates=3, weightinverse=1.0)
    plain = net.loss()
    penalty = sum(1 / (p.get_value() ** 2).sum() for p in net.params
                  if p.ndim > 1)
    assert tm['loss'] - tm['err'] == pytest.approx(penalty, rel=1e-3)
    ff = net.feed_forward(x)
    assert np.allclose(ff['hid1:out'], 2 * ff['hid1:pre'] ** 3, rtol=1e-4)
    assert plain.ndim == 0


def test_model_methods_of_the_original(data):
    net = theanets.Classifier([4, 5, 2])
    x, y = data
    outputs, updates = net.build_graph()
    assert {'in:out', 'hid1:out', 'out:out'} <= set(outputs)
    assert net.loss(weight_l2=0.1).ndim == 0
    assert net.updates() == []
    assert net.predict_logit(x).shape == (80, 2)
    with pytest.raises(KeyError):
        net.find('hid9', 'w')
    with pytest.raises(KeyError):
        net.find('hid1', 'q')


def test_monitors_as_the_original_parsed_them():
    net = theanets.Classifier([4, 5, 2])
    names = [n for n, _ in net.monitors(monitors=[
        ('hid1:out', 0.5),
        ('hid?.w', [0.1, 0.2]),
        ('nothing:here', 0.1),
        ('hid1:out', {'a': lambda e: TT.mean(e)}),
    ])]
    assert names == ['err', 'acc', 'hid1:out<0.5', 'hid1.w<0.1', 'hid1.w<0.2',
                     'hid1:out:a']
    names = [n for n, _ in net.monitors(monitors={'*.w': 0.5})]
    assert names[2:] == ['hid1.w<0.5', 'out.w<0.5']


def test_monitor_gradients_and_repeated_validation(data):
    net = theanets.Classifier([4, 5, 2])
    pairs = list(net.itertrain(data, algo='sgd', max_updates=12,
                               batch_size=40, validate_every=3,
                               monitor_gradients=True))
    assert any(k.startswith('grad(') for k in pairs[0][0])
    valids = [vm for _, vm in pairs]
    assert valids[0] == valids[1] == valids[2]  # repeated, unchanged
    assert valids[3] != valids[2]


def test_save_progress_to_a_file_object(data):
    buffer = io.BytesIO()
    net = theanets.Classifier([4, 5, 2])
    net.train(data, algo='sgd', max_updates=4, batch_size=40,
              save_progress=buffer, save_every=1)
    buffer.seek(0)
    loaded = theanets.Network.load(buffer)
    assert np.allclose(loaded.predict_proba(data[0]),
                       net.predict_proba(data[0]))


def test_misspelled_keyword_is_an_error_not_ignored(data):
    net = theanets.Classifier([4, 5, 2])
    with pytest.raises(theanets.ConfigurationError,
                       match="did you mean 'min_improvement'"):
        net.train(data, min_improvment=0.001)


def test_weights_exported_from_the_old_environment(tmp_path, data):
    old = theanets.Classifier([4, 5, 2], rng=1)
    path = tmp_path / 'weights.npz'
    np.savez(path, **{p.name: p.get_value() for p in old.params})
    new = theanets.Classifier([4, 5, 2], rng=2)
    new.load_weights(str(path))
    assert np.allclose(new.predict_proba(data[0]), old.predict_proba(data[0]))
    with pytest.raises(ValueError, match='missing'):
        new.load_weights({'hid1.w': np.zeros((4, 5))})
    with pytest.raises(ValueError, match='expected an array of shape'):
        bad = {p.name: p.get_value() for p in old.params}
        bad['hid1.w'] = np.zeros((5, 4))
        new.load_weights(bad)


def test_downhill_spellings_and_registry_build(data):
    net = theanets.Classifier([4, 5, 2])
    tm, _ = net.train(data, algo='sgd', max_updates=2, max_gradient_clip=1,
                      iteration_size=1)
    assert np.isfinite(tm['loss'])
    layer = theanets.Layer.build('ff', size=3, inputs={'in:out': 2}, name='h')
    assert type(layer).__name__ == 'Feedforward'
    assert type(theanets.Loss.build('mse', 2)).__name__ == 'MeanSquaredError'


def test_default_loss_reads_the_last_layer():
    net = theanets.Regressor([3, dict(size=2, name='o')])
    assert net.losses[0].output_name == 'o:out'


def test_relu_gradient_at_zero_is_one_half():
    x = TT.vector()
    act = theanets.activations.build('relu', theanets.layers.Layer(size=1,
                                                                    name='l'))
    grad = theanets.backend.compile([x], theanets.backend.grad(
        act(x).sum(), x), mode='python')
    assert np.allclose(grad(np.array([-1, 0, 1], 'f')), [0, 0.5, 1])
