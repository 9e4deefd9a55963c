"""Convolutional models: inputs with spatial axes, channels last.

The input spec is the shape of one sample: ``(28, 28, 1)`` for grey
images (``(n, 28, 28, 1)`` arrays), ``(32, 32, 3)`` for colour ones, or
``(time, channels)`` for ``conv1`` over fixed-length signals. Spatial
layers (``conv2``, ``pool2``) keep the shape; a ``'flat'`` layer joins the
axes before dense layers.

As in the original theanets, the input spec may also be the channel count
alone (``1``): images of any height and width, ``(n, h, w, 1)``. Their
sizes are then unknown until the data arrives, so a ``'flat'`` layer needs
its size, ``('flat', 22500)``, and the JAX mode cannot compile the model.

>>> net = Classifier([(28, 28, 1),
...     dict(form='conv2', size=16, filter_size=(3, 3)),
...     dict(form='pool2', pool_size=(2, 2)), 'flat', 10])  # doctest: +SKIP
>>> net.train((images, labels))  # doctest: +SKIP
"""

import numpy as np

from . import feedforward, layers as L
from .util import ConfigurationError, logger

__all__ = ['Regressor', 'Classifier', 'from_theano_filters',
           'to_theano_filters', 'original_weights']


def _shape_text(shape):
    return '(n, ' + ', '.join('?' if s is None else str(s)
                              for s in shape) + ')'


def from_theano_filters(w, ndim=2):
    """Filters in the original theanets' layout, in this package's.

    The original stored Theano's ``(filters, channels, rows, columns)``
    (``(filters, channels, 1, length)`` for ``conv1``) and convolved
    (Theano's ``conv2d`` flips the filters); these layers store
    ``(rows, columns, channels, filters)`` and do not flip. The filters are
    transposed and flipped, so that the layer computes the same outputs.

    Parameters
    ----------
    w : ndarray, shape ``(filters, channels, rows, columns)``
    ndim : {2, 1}, default=2
        1 for the weights of a ``conv1`` layer.

    Returns
    -------
    ndarray
        ``(rows, columns, channels, filters)``, or ``(length, channels,
        filters)`` for ``ndim=1``.

    Examples
    --------
    >>> from_theano_filters(np.zeros((100, 1, 14, 14))).shape
    (14, 14, 1, 100)
    """
    w = np.asarray(w)
    if w.ndim != 4 or ndim not in (1, 2) or (ndim == 1 and w.shape[2] != 1):
        raise ValueError(
            f'expected filters of shape (filters, channels, rows, columns), '
            f'or (filters, channels, 1, length) with ndim=1; got shape '
            f'{w.shape} with ndim={ndim!r}')
    w = w[:, :, ::-1, ::-1].transpose(2, 3, 1, 0)
    return np.ascontiguousarray(w[0] if ndim == 1 else w)


def to_theano_filters(w):
    """This package's filters in the original's layout (for its plots).

    The inverse of :func:`from_theano_filters`: ``(rows, columns,
    channels, filters)`` or ``(length, channels, filters)`` ->
    ``(filters, channels, rows, columns)``, flipped.
    """
    w = np.asarray(w)
    if w.ndim == 3:
        w = w[None]
    if w.ndim != 4:
        raise ValueError(f'expected filters of 3 or 4 axes, got shape '
                         f'{w.shape}')
    return np.ascontiguousarray(w.transpose(3, 2, 0, 1)[:, :, ::-1, ::-1])


def original_weights(net, source):
    """Weights saved from the original theanets, for ``net.load_weights``.

    Every convolution's ``w`` in ``source`` that has the original's
    shape, ``(filters, channels) + filter_size``, is converted with
    :func:`from_theano_filters`; other arrays are passed as they are (and
    :meth:`~theanets.graph.Network.load_weights` checks them all).

    Parameters
    ----------
    net : Network
        The model, built with the original's architecture.
    source : dict or str or path
        Parameter name -> array, or an ``.npz`` file of them (read with
        ``allow_pickle=False``).

    Returns
    -------
    dict
        Parameter name -> array.

    Examples
    --------
    >>> net.load_weights(original_weights(net, 'weights.npz'))  # doctest: +SKIP
    """
    if isinstance(source, dict):
        arrays = dict(source)
    else:
        with np.load(source, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    for layer in net.layers:
        if not isinstance(layer, L.Convolution):
            continue
        name = layer.find('w').name
        old = (layer.size, layer.input_size) + (
            (1,) if layer.NDIM == 1 else ()) + layer.filter_size
        if name in arrays and np.shape(arrays[name]) == old:
            arrays[name] = from_theano_filters(arrays[name], layer.NDIM)
    return arrays


class _Spatial:
    """Mixin of the convolutional models: shaped inputs and their checks."""

    def _make_layer(self, spec, is_output):
        if not self.layers and spec.get('form', 'input') == 'input':
            shape = spec.get('shape') or (spec.get('size'),)
            if len(shape) < 2:  # the original's spec: the channel count
                spec.pop('size', None)
                spec['shape'] = (None, None, shape[0])
                logger.info(
                    'convolutional input %r: images of any size with %d '
                    'channel(s); give the shape of one image, such as '
                    '(28, 28, %d), to fix the sizes', spec.get('name', 'in'),
                    shape[0], shape[0])
        elif self.layers and L.Layer.lookup(
                spec.get('form') or 'feedforward') is L.Flatten:
            spec = self._sized_flat(spec, is_output)
        return super()._make_layer(spec, is_output)

    def _sized_flat(self, spec, is_output):
        """A flat layer after axes of unknown size needs its ``size``."""
        inputs = spec.get('inputs') or self.layers[-1].name
        if not isinstance(inputs, str):  # shapes given, or several inputs
            return spec
        name = L.output_name(inputs)
        shape = self._shapes().get(name)
        if shape is None or None not in shape:
            return spec
        if spec.get('size') is None:
            layer = spec.get('name') or self._default_name(is_output)
            channels = self.layers[0].output_shape[-1]
            raise ConfigurationError(
                f'flat layer {layer!r}: its input {name!r} has axes of '
                f'unknown size, {_shape_text(shape)}; give the flat layer '
                f'its size, (\'flat\', N), or give the model\'s input the '
                f'shape of one image, such as (28, 28, {channels})')
        return spec  # its size is checked when data arrives

    def _check_flat_sizes(self, found):
        """Check the declared flat sizes against images of shape ``found``."""
        sizes = {self.layers[0].output_name: tuple(found[1:])}
        for layer in self.layers[1:]:
            shape = sizes.get(next(iter(layer.inputs), None))
            if shape is None or len(layer.inputs) != 1:
                continue
            if isinstance(layer, (L.Convolution, L.Pooling)):
                spatial = layer.spatial_output(shape[:-1])
                sizes[layer.output_name] = spatial + layer.output_shape[-1:]
            elif isinstance(layer, L.Flatten) and layer.size is not None:
                count = int(np.prod(shape))
                if count != layer.size:
                    raise ValueError(
                        f'inputs of shape {found} give flat layer '
                        f'{layer.name!r} {"x".join(map(str, shape))} = '
                        f'{count} values per sample, but its size is '
                        f'{layer.size}; give it size={count}, or pass images '
                        f'of the size it was built for')

    def _check_inputs(self, x, name='inputs'):
        shape = self.layers[0].output_shape
        ndim = np.ndim(x) if isinstance(x, (np.ndarray, list, tuple)) else None
        if ndim is None:
            return super()._check_inputs(x, name)
        found = np.shape(x)
        hint = None
        if ndim == 2 and None not in shape and \
                found[1] == int(np.prod(shape)):
            hint = (f'; these look like flattened samples: pass '
                    f'x.reshape(-1, {", ".join(map(str, shape))})')
        elif ndim == len(shape):
            hint = ' (one sample? pass x[None])'
        elif ndim == 4 == 1 + len(shape) and found[1] == shape[-1] != \
                found[-1]:
            hint = ('; these look channels-first, (n, channels, height, '
                    'width): pass x.transpose(0, 2, 3, 1)')
        if hint is not None or ndim != 1 + len(shape):
            raise ValueError(
                f'{name}: expected a {1 + len(shape)}-D array of shape '
                f'{_shape_text(shape)}, got a {ndim}-D array of shape '
                f'{found}{hint or ""}')
        if None in shape:
            self._check_flat_sizes(found)
        return super()._check_inputs(x, name)


class Regressor(_Spatial, feedforward.Regressor):
    """A convolutional regressor: ``(n,) + input shape`` -> targets."""


class Classifier(_Spatial, feedforward.Classifier):
    """A convolutional classifier: images ``(n, h, w, c)`` -> classes."""
