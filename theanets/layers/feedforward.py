"""Feedforward layers: dense, tied, classifier and shape-changing layers."""

import numpy as np

from ..backend import TT
from ..util import ConfigurationError
from .base import Layer, dot_last

__all__ = ['Feedforward', 'Classifier', 'Tied', 'Flatten', 'Concatenate',
           'Product', 'Reshape']


class Feedforward(Layer):
    """A fully connected layer: ``out = activation(x . w + b)``.

    With several inputs, each gets its own weight matrix ``w_<input>``
    (``'w_in'``, ``'w_hid1'``) and their products are summed.

    Shapes: input ``(n, ..., nin)``, output ``(n, ..., size)``;
    ``w`` is ``(nin, size)``, ``b`` is ``(size,)``.
    Outputs: ``'pre'`` (before the activation) and ``'out'``.

    >>> Feedforward(size=100, inputs={'in:out': 784}, name='hid1')
    Feedforward(name='hid1', size=100, activation='relu')
    """

    aliases = ('ff',)

    def _weight_names(self):
        if len(self.input_shapes) == 1:
            return {name: 'w' for name in self.input_shapes}
        return {name: 'w_' + (name[:-4] if name.endswith(':out') else name)
                for name in self.input_shapes}

    def setup(self):
        if self.size is None:
            raise ConfigurationError(f'layer {self.name!r} needs a size')
        for name, wname in self._weight_names().items():
            self.add_weights(wname, self.input_shapes[name][-1], self.size)
        self.add_bias('b', self.size)

    def transform(self, inputs):
        names = self._weight_names()
        pre = sum(dot_last(x, self.find(names[name])) for name, x in inputs.items())
        pre = pre + self.find('b')
        return dict(pre=pre, out=self._act(pre))


class Classifier(Feedforward):
    """A feedforward layer whose activation defaults to softmax."""

    def __init__(self, *args, activation='softmax', **kwargs):
        super().__init__(*args, activation=activation, **kwargs)


class Tied(Layer):
    """A layer that reuses another layer's weights, transposed.

    Used by autoencoders to decode with the encoder's weights: the partner's
    ``w`` is ``(nin, nout)``, this layer maps ``nout -> nin`` with ``w.T``
    and its own bias ``b`` of size ``nin``.

    Parameters
    ----------
    partner : str or Layer
        The layer whose weights are shared (resolved by the network).
    """

    def __init__(self, partner=None, size=None, **kwargs):
        if partner is None:
            raise ConfigurationError('a tied layer needs a partner= layer')
        self.partner = partner
        super().__init__(size=size, **kwargs)

    def setup(self):
        if not isinstance(self.partner, Layer):
            raise ConfigurationError(
                f'tied layer {self.name!r}: partner {self.partner!r} was not '
                'resolved to a layer')
        w = self.partner.find('w')
        nin, nout = w.get_value(borrow=True).shape
        if self.size is None:
            self.size = nin
        if (self.size, self.input_size) != (nin, nout):
            raise ConfigurationError(
                f'tied layer {self.name!r} maps {self.input_size} -> '
                f'{self.size}, but its partner {self.partner.name!r} has '
                f'weights of shape {(nin, nout)}')
        self.add_bias('b', self.size)

    def transform(self, inputs):
        pre = dot_last(self._only_input(inputs), self.partner.find('w').T)
        pre = pre + self.find('b')
        return dict(pre=pre, out=self._act(pre))

    def to_spec(self):
        spec = super().to_spec()
        spec['partner'] = getattr(self.partner, 'name', self.partner)
        return spec


class Flatten(Layer):
    """Flatten every axis after the batch axis: ``(n, a, b) -> (n, a*b)``."""

    aliases = ('flat',)

    def __init__(self, size=None, activation='linear', **kwargs):
        super().__init__(size=size, activation=activation, **kwargs)

    def setup(self):
        shape = self.input_shape
        if None in shape:  # sizes known only when data arrives
            if self.size is None:
                raise ConfigurationError(
                    f'flat layer {self.name!r}: its input {shape} has axes of '
                    "unknown size; give its size, ('flat', N)")
            return
        size = int(np.prod(shape))
        if self.size is not None and self.size != size:
            raise ConfigurationError(
                f'flat layer {self.name!r}: size={self.size}, but its input '
                f'{shape} holds {size} values per sample')
        self.size = size

    @property
    def output_shape(self):
        return (self.size,)

    def transform(self, inputs):
        x = self._only_input(inputs)
        out = x.reshape((x.shape[0], self.size))
        return dict(out=self._act(out))


class Concatenate(Layer):
    """Join several inputs along the last axis."""

    def __init__(self, size=None, activation='linear', **kwargs):
        super().__init__(size=size, activation=activation, **kwargs)

    def setup(self):
        shapes = list(self.input_shapes.values())
        self.size = sum(s[-1] for s in shapes)
        self._lead = shapes[0][:-1]

    @property
    def output_shape(self):
        return tuple(self._lead) + (self.size,)

    def transform(self, inputs):
        out = TT.concatenate(list(inputs.values()), axis=-1)
        return dict(out=self._act(out))


class Product(Layer):
    """Multiply inputs of one shape elementwise."""

    def __init__(self, size=None, activation='linear', **kwargs):
        super().__init__(size=size, activation=activation, **kwargs)

    def setup(self):
        shapes = set(self.input_shapes.values())
        if len(shapes) != 1:
            raise ConfigurationError(
                f'product layer {self.name!r} needs inputs of one shape, '
                f'got {sorted(map(str, shapes))}')
        self.size = next(iter(shapes))[-1]

    def transform(self, inputs):
        values = list(inputs.values())
        out = values[0]
        for value in values[1:]:
            out = out * value
        return dict(out=self._act(out))

    @property
    def output_shape(self):
        return next(iter(self.input_shapes.values()))


class Reshape(Layer):
    """Reshape each sample to ``shape`` (without the batch axis)."""

    def __init__(self, shape=None, activation='linear', **kwargs):
        if shape is None:
            raise ConfigurationError('a reshape layer needs a shape=')
        super().__init__(shape=shape, activation=activation, **kwargs)

    def setup(self):
        if int(np.prod(self._shape)) != int(np.prod(self.input_shape)):
            raise ConfigurationError(
                f'reshape layer {self.name!r} cannot reshape '
                f'{self.input_shape} into {self._shape}')

    def transform(self, inputs):
        x = self._only_input(inputs)
        return dict(out=self._act(x.reshape((x.shape[0],) + self._shape)))
