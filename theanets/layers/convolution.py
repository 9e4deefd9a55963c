"""Convolution and pooling layers over time (1-D) or images (2-D).

Inputs are channels-last: ``(n, time, channels)`` for ``conv1``/``pool1``
and ``(n, height, width, channels)`` for ``conv2``/``pool2``.

A convolution gathers, for every output position, the input patch under
the filter (one strided view of the input per filter offset, joined along
the channel axis: "im2col") and multiplies all patches by the filters in
ONE matrix product with ``w`` reshaped to ``(prod(filter_size) * channels,
size)``. Pooling takes the elementwise max (or mean) of the same strided
views. No convolution op is needed, so every compile mode runs it.

Every shape a layer knows stays a constant in the graph: the patches are
joined into rows and split back with ``join_dims``/``split_dims`` (one
symbolic size, the batch's, and no arithmetic on it), which is what lets
PyTensor's JAX backend compile these layers, gradients included. Axes of
unknown size (``conv1`` over a variable number of time steps, or images of
any size) fall back to a plain ``dot``, which the C, Numba and Python
modes run but JAX does not.

Filters are cross-correlated (not flipped), with ``w`` of shape
``filter_size + (channels, size)``; the original theanets stored Theano's
``(size, channels) + filter_size`` and convolved (flipped);
:func:`theanets.convolution.from_theano_filters` converts.

>>> net = theanets.convolution.Classifier([(28, 28, 1),
...     dict(form='conv2', size=16, filter_size=(3, 3)),
...     dict(form='pool2', pool_size=(2, 2)), 'flat', 10])  # doctest: +SKIP
"""

import itertools

import numpy as np

from ..backend import TT
from ..util import ConfigurationError
from .base import Layer

__all__ = ['Convolution', 'Conv1', 'Conv2', 'Pooling', 'Pool1', 'Pool2']

BORDER_MODES = ('valid', 'same', 'full')
POOL_MODES = ('max', 'mean')


def _ints(value, ndim, what, layer):
    """``3`` or ``(3, 3)`` -> a tuple of ``ndim`` positive ints."""
    values = (value,) * ndim if np.isscalar(value) else tuple(value)
    if len(values) != ndim or any(int(v) != v or v < 1 for v in values):
        raise ConfigurationError(
            f'{layer} layer: {what} must be {ndim} positive int(s), got '
            f'{value!r}')
    return tuple(int(v) for v in values)


def _pad(x, pads, value=0):
    """Pad the spatial axes of ``x`` (``(n, *spatial, c)``) with ``value``.

    ``pads`` holds one ``(before, after)`` pair per spatial axis. The sizes
    that ``x``'s type knows stay constants: the JAX mode needs concrete
    shapes, with no arithmetic on symbolic ones.
    """
    if all(isinstance(p, int) and p == 0 for pair in pads for p in pair):
        return x
    sizes = [x.shape[k] if n is None else n
             for k, n in enumerate(x.type.shape)]
    inner = sizes[1:-1]
    out = TT.alloc(TT.cast(value, x.dtype), sizes[0],
                   *[n + a + b for n, (a, b) in zip(inner, pads)], sizes[-1])
    index = (slice(None),) + tuple(slice(a, a + n)
                                   for n, (a, _) in zip(inner, pads))
    return TT.set_subtensor(out[index], x)


def _views(x, window, stride, sizes):
    """The strided views of ``x`` for each offset in ``window``.

    View ``(i, j)`` holds ``x[:, i + s_h * a, j + s_w * b]`` at ``[:, a, b]``,
    for every window position that fits inside ``x``. ``sizes`` are the
    spatial sizes of ``x`` (None where unknown); known sizes give plain
    slices, which compile much faster than slices relative to the end.
    """
    for offset in itertools.product(*(range(w) for w in window)):
        index = [slice(None)]
        for o, w, s, n in zip(offset, window, stride, sizes):
            if n is None:
                index.append(slice(o, (o - w + 1) or None, s))
            else:
                index.append(slice(o, o + (n - w) // s * s + 1, s))
        yield x[tuple(index)]


def _static(x, shape):
    """``x`` with its known sizes (``(None,) + shape``) made static."""
    return TT.specify_shape(x, (None,) + tuple(shape))


def _out_size(n, window, stride, before=0, after=0):
    """Positions of a window of ``window`` moved by ``stride`` over ``n``."""
    if n is None:
        return None
    return (n + before + after - window) // stride + 1


class _Spatial:
    """Mixin: layers with ``NDIM`` spatial axes before the channels."""

    NDIM = None
    AXES = {1: '(n, time, channels)', 2: '(n, height, width, channels)'}

    def _check_ndim(self, name):
        if self.NDIM is None:
            raise ConfigurationError(
                f'{name} is a base class; use {name.lower()[:4]}1 (over time) '
                f'or {name.lower()[:4]}2 (over images)')

    def _check_input(self):
        shape = self.input_shape
        if len(shape) != self.NDIM + 1:
            dims = ', '.join(map(str, shape))
            raise ConfigurationError(
                f'{type(self).__name__} layer {self.name!r} needs inputs of '
                f'shape {self.AXES[self.NDIM]}, but its input is (n, {dims})')
        for axis, n in enumerate(self.output_shape[:-1]):
            if n is not None and n < 1:
                raise ConfigurationError(
                    f'layer {self.name!r}: the window of '
                    f'{self._window()} does not fit the input '
                    f'{self.input_shape[:-1]} (output axis {axis} would be '
                    f'{n}); use a smaller window or border_mode=\'same\'')


class Convolution(_Spatial, Layer):
    """Base class of convolutions: filters slid over the spatial axes.

    Parameters ``w`` ``filter_size + (channels, size)`` and ``b``
    ``(size,)``. Outputs ``pre`` and ``out``.

    Parameters
    ----------
    size : int
        Number of filters (output channels).
    filter_size : int or tuple of int
        Filter extent along each spatial axis.
    stride : int or tuple of int, default=1
        Step between filter positions.
    border_mode : {'valid', 'same', 'full'}, default='valid'
        ``'valid'``: only positions where the filter fits (output
        ``(n - f) // s + 1``); ``'same'``: zero-pad ``(f - 1) // 2`` before
        and the rest after (output ``ceil(n / s)``); ``'full'``: zero-pad
        ``f - 1`` on both sides.
    """

    def __init__(self, filter_size=None, stride=1, border_mode='valid',
                 size=None, **kwargs):
        name = type(self).__name__
        self._check_ndim(name)
        if filter_size is None:
            raise ConfigurationError(f'{name} layer needs a filter_size')
        self.filter_size = _ints(filter_size, self.NDIM, 'filter_size', name)
        self.stride = _ints(stride, self.NDIM, 'stride', name)
        if border_mode not in BORDER_MODES:
            raise ConfigurationError(
                f'{name} layer: border_mode must be one of '
                f'{", ".join(BORDER_MODES)}, got {border_mode!r}')
        self.border_mode = border_mode
        super().__init__(size=size, **kwargs)
        if self.size is None:
            raise ConfigurationError(f'{name} layer {self.name!r} needs a '
                                     'size (the number of filters)')

    def _window(self):
        return 'x'.join(map(str, self.filter_size))

    def _pads(self):
        if self.border_mode == 'same':
            return [((f - 1) // 2, f - 1 - (f - 1) // 2)
                    for f in self.filter_size]
        if self.border_mode == 'full':
            return [(f - 1, f - 1) for f in self.filter_size]
        return [(0, 0)] * self.NDIM

    def spatial_output(self, sizes):
        """Output sizes of the spatial axes for input sizes ``sizes``."""
        return tuple(_out_size(n, f, s, *p) for n, f, s, p in zip(
            sizes, self.filter_size, self.stride, self._pads()))

    @property
    def output_shape(self):
        return self.spatial_output(self.input_shape[:-1]) + (self.size,)

    def setup(self):
        self._check_input()
        channels = self.input_size
        fan_in = int(np.prod(self.filter_size)) * channels
        flat = self.add_weights('w', fan_in, self.size)
        self._params.remove(flat)
        self._add_param('w', flat.get_value().reshape(
            self.filter_size + (channels, self.size)))
        self.add_bias('b', self.size)

    def transform(self, inputs):
        pads = self._pads()
        x = _static(self._only_input(inputs), self.input_shape)
        padded = _pad(x, pads)
        sizes = [None if n is None else n + a + b
                 for n, (a, b) in zip(self.input_shape[:-1], pads)]
        patches = TT.concatenate(
            list(_views(padded, self.filter_size, self.stride, sizes)),
            axis=-1)
        fan_in = int(np.prod(self.filter_size)) * self.input_size
        w = self.find('w').reshape((fan_in, self.size))
        spatial = self.output_shape[:-1]
        if None in spatial:  # sizes unknown: JAX cannot compile this
            pre = TT.dot(patches, w)
        else:  # constant shapes but the batch's (see the module docs)
            rows = TT.join_dims(patches, 0, self.NDIM + 1)
            pre = TT.split_dims(TT.dot(rows, w), (x.shape[0],) + spatial, 0)
        pre = pre + self.find('b')
        return dict(pre=pre, out=self._act(pre))

    def to_spec(self):
        return dict(super().to_spec(), filter_size=list(self.filter_size),
                    stride=list(self.stride), border_mode=self.border_mode)


class Conv1(Convolution):
    """1-D convolution over time: ``(n, time, channels) -> (n, time', size)``.

    ``w`` is ``(filter_size, channels, size)``. Works with a variable
    number of time steps (in :mod:`theanets.recurrent` models).
    """

    NDIM = 1


class Conv2(Convolution):
    """2-D convolution over images, channels last.

    ``(n, height, width, channels) -> (n, height', width', size)``;
    ``w`` is ``(filter_h, filter_w, channels, size)``.
    """

    NDIM = 2


class Pooling(_Spatial, Layer):
    """Base class of pooling: the max or mean of each window, per channel.

    No parameters; the activation defaults to ``'linear'``. Outputs
    ``pre`` and ``out``, with the input's channels.

    Parameters
    ----------
    pool_size : int or tuple of int
        Window extent along each spatial axis.
    stride : int or tuple of int, optional
        Step between windows; defaults to ``pool_size`` (no overlap).
    mode : {'max', 'mean'}, default='max'
    ignore_border : bool, default=True
        When the windows do not tile an axis exactly: True drops the
        leftover rows (output ``(n - p) // s + 1``); False pads the end so
        that a last, partial window covers them (output
        ``ceil((n - p) / s) + 1``); a partial window's mean counts only its
        real values.
    """

    def __init__(self, pool_size=None, stride=None, mode='max',
                 ignore_border=True, size=None, activation='linear', **kwargs):
        name = type(self).__name__
        self._check_ndim(name)
        if pool_size is None:
            raise ConfigurationError(f'{name} layer needs a pool_size')
        self.pool_size = _ints(pool_size, self.NDIM, 'pool_size', name)
        self.stride = _ints(self.pool_size if stride is None else stride,
                            self.NDIM, 'stride', name)
        if mode not in POOL_MODES:
            raise ConfigurationError(f'{name} layer: mode must be max or '
                                     f'mean, got {mode!r}')
        self.mode = mode
        self.ignore_border = bool(ignore_border)
        super().__init__(size=size, activation=activation, **kwargs)

    def _window(self):
        return 'x'.join(map(str, self.pool_size))

    def _extra(self, n, p, s):
        """Padding after an axis of ``n`` so that windows cover it."""
        if self.ignore_border or n is None or n <= p:
            return 0
        return (-(n - p)) % s

    def spatial_output(self, sizes):
        """Output sizes of the spatial axes for input sizes ``sizes``."""
        return tuple(_out_size(n, p, s, 0, self._extra(n, p, s))
                     for n, p, s in zip(sizes, self.pool_size, self.stride))

    @property
    def output_shape(self):
        return self.spatial_output(self.input_shape[:-1]) + (self.input_size,)

    def setup(self):
        self._check_input()
        self.size = self.input_size

    def _pads(self, x):
        """Padding per axis; symbolic where the axis size is unknown."""
        pads = []
        for k, (n, p, s) in enumerate(zip(self.input_shape[:-1],
                                          self.pool_size, self.stride)):
            if self.ignore_border:
                pads.append((0, 0))
            elif n is None:
                over = (TT.maximum(x.shape[1 + k], p) - p) % s
                pads.append((0, (s - over) % s))
            else:
                pads.append((0, self._extra(n, p, s)))
        return pads

    def transform(self, inputs):
        x = _static(self._only_input(inputs), self.input_shape)
        pads = self._pads(x)
        sizes = [None if n is None else n + b
                 for n, (_, b) in zip(self.input_shape[:-1], pads)]

        def pool(values, fill=0):
            return list(_views(_pad(values, pads, fill), self.pool_size,
                               self.stride, sizes))

        if self.mode == 'max':
            views = pool(x, np.finfo(x.dtype).min)
            pre = views[0]
            for view in views[1:]:
                pre = TT.maximum(pre, view)
        elif self.ignore_border:
            pre = sum(pool(x)) / float(np.prod(self.pool_size))
        else:  # divide by the number of real values in each window
            counts = sum(pool(TT.ones_like(x[..., :1])))
            pre = sum(pool(x)) / TT.shape_padright(counts[..., 0])
        return dict(pre=pre, out=self._act(pre))

    def to_spec(self):
        return dict(super().to_spec(), pool_size=list(self.pool_size),
                    stride=list(self.stride), mode=self.mode,
                    ignore_border=self.ignore_border)


class Pool1(Pooling):
    """1-D pooling over time: ``(n, time, c) -> (n, time', c)``."""

    NDIM = 1


class Pool2(Pooling):
    """2-D pooling over images: ``(n, h, w, c) -> (n, h', w', c)``."""

    NDIM = 2
