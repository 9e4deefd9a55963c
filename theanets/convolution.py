"""Convolutional models: inputs with spatial axes, channels last.

The input spec is the shape of one sample: ``(28, 28, 1)`` for grey
images (``(n, 28, 28, 1)`` arrays), ``(32, 32, 3)`` for colour ones, or
``(time, channels)`` for ``conv1`` over fixed-length signals. Spatial
layers (``conv2``, ``pool2``) keep the shape; a ``'flat'`` layer joins the
axes before dense layers.

>>> net = Classifier([(28, 28, 1),
...     dict(form='conv2', size=16, filter_size=(3, 3)),
...     dict(form='pool2', pool_size=(2, 2)), 'flat', 10])  # doctest: +SKIP
>>> net.train((images, labels))  # doctest: +SKIP
"""

import numpy as np

from . import feedforward
from .util import ConfigurationError

__all__ = ['Regressor', 'Classifier']


def _shape_text(shape):
    return '(n, ' + ', '.join(str(s) for s in shape) + ')'


class _Spatial:
    """Mixin of the convolutional models: shaped inputs and their checks."""

    def _make_layer(self, spec, is_output):
        if not self.layers and spec.get('form', 'input') == 'input':
            shape = spec.get('shape') or (spec.get('size'),)
            if len(shape) < 2:
                raise ConfigurationError(
                    f'a convolutional model needs the input shape of one '
                    f'sample, such as (28, 28, 1) (height, width, channels) '
                    f'or (time, channels); got {shape[0]!r}')
        return super()._make_layer(spec, is_output)

    def _check_inputs(self, x, name='inputs'):
        shape = self.layers[0].output_shape
        ndim = np.ndim(x) if isinstance(x, (np.ndarray, list, tuple)) else None
        if ndim is not None and ndim != 1 + len(shape):
            hint = ''
            found = np.shape(x)
            if ndim == 2 and None not in shape and \
                    found[1] == int(np.prod(shape)):
                hint = (f'; these look like flattened samples: pass '
                        f'x.reshape(-1, {", ".join(map(str, shape))})')
            elif ndim == len(shape):
                hint = ' (one sample? pass x[None])'
            raise ValueError(
                f'{name}: expected a {1 + len(shape)}-D array of shape '
                f'{_shape_text(shape)}, got a {ndim}-D array of shape '
                f'{found}{hint}')
        return super()._check_inputs(x, name)


class Regressor(_Spatial, feedforward.Regressor):
    """A convolutional regressor: ``(n,) + input shape`` -> targets."""


class Classifier(_Spatial, feedforward.Classifier):
    """A convolutional classifier: images ``(n, h, w, c)`` -> classes."""
