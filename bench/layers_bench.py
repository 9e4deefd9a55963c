"""LSTM and conv2 training steps, theanets (mode c) vs PyTorch eager.

Measured only when ``theanets.layers.recurrent`` / ``.convolution`` import
and train; otherwise a note says why. Both sides use nag (learning rate
1e-3, momentum 0.9) and the mean cross-entropy.

- LSTM: batch 32, 50 time steps, 128 inputs, 128 units (no peepholes, as
  PyTorch's), a softmax over 10 classes at every step.
- conv2: batch 64 of 28x28x1, 16 filters 3x3 (relu), 2x2 max pooling,
  a dense softmax over 10 classes.
"""

import sys
import warnings

import numpy as np

import peers
from timing import measure, summary

__all__ = ['run']

LSTM = dict(batch=32, steps=50, nin=128, units=128, nout=10)
CONV = dict(batch=64, filters=16, nout=10)


def _step_fn(net, x, y):
    """Train once (compiling), then return the compiled step on (x, y)."""
    net.train((x, y), algo='nag', learning_rate=1e-3, momentum=0.9,
              batch_size=len(x), max_updates=1, validate_every=10**6,
              progress=False)
    opt = next(o for k, o in net._optimizers.items() if k[0] == 'nag')
    fn = opt._functions()[0]
    return lambda: fn(x, y)


def _lstm(theanets, rng):
    from theanets import recurrent
    import theanets.layers.recurrent  # noqa: F401
    c = LSTM
    net = recurrent.Classifier(
        [c['nin'], dict(form='lstm', size=c['units'], peepholes=False),
         c['nout']])
    x = rng.standard_normal((c['batch'], c['steps'], c['nin']), 'f4')
    y = rng.integers(0, c['nout'], (c['batch'], c['steps'])).astype('int32')
    return _step_fn(net, x, y)


def _conv(theanets, rng):
    from theanets import convolution
    import theanets.layers.convolution  # noqa: F401
    c = CONV
    net = convolution.Classifier(
        [(28, 28, 1),
         dict(form='conv2', size=c['filters'], filter_size=(3, 3),
              activation='relu'),
         dict(form='pool2', pool_size=(2, 2)), 'flat', c['nout']])
    x = rng.random((c['batch'], 28, 28, 1), 'f4')
    y = rng.integers(0, c['nout'], c['batch']).astype('int32')
    return _step_fn(net, x, y)


def run(theanets, quick, notes):
    """``{'lstm ...': {'theanets': ms, 'torch': ms}, ...}``."""
    out = {}
    rng = np.random.default_rng(0)
    theanets.config.mode = 'c'
    for label, build, peer in (
            ('LSTM b=32, 50 steps, 128 units', _lstm,
             lambda: peers.torch_lstm(**LSTM)),
            ('conv2 b=64, 16 3x3 filters, pool 2x2', _conv,
             lambda: peers.torch_conv(**CONV))):
        contenders = {}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                contenders['theanets'] = build(theanets, rng)
        except Exception as err:  # a layer still being written
            notes.append(f'{label}: theanets not measured '
                         f'({type(err).__name__}: {str(err)[:120]})')
        step = peer()
        if step is None:
            notes.append(f'{label}: PyTorch not installed')
        else:
            contenders['torch'] = step
        if not contenders:
            continue
        times = measure(contenders, quick=quick)
        out[label] = {k: summary(v)['median_ms'] for k, v in times.items()}
        print(f'  {label}: ' + ', '.join(f'{k} {v:.2f} ms' for k, v in
                                        out[label].items()), file=sys.stderr, flush=True)
    return out
