"""Activation functions for network layers.

An activation is named in a layer spec by a string and built with
:func:`build`:

- ``'linear'`` (or ``'identity'``), ``'sigmoid'`` (or ``'logistic'``),
  ``'tanh'``, ``'softmax'`` (over the last axis), ``'softplus'``,
  ``'softsign'``
- ``'relu'`` (or ``'rect:min'``): ``max(0, x)``; ``'rect:max'``:
  ``min(1, x)``; ``'rect:minmax'`` (or ``'trel'``): ``min(1, max(0, x))``;
  ``'trec'``, ``'tlin'``: thresholded rectifier and linear
- ``'leaky_relu'`` (or ``'lrelu'``, ``'leaky relu'``), slope 0.01 or
  ``'leaky_relu:0.2'``; ``'elu'``, ``'selu'``
- ``'norm:mean'`` (or ``'norm:dc'``), ``'norm:max'``, ``'norm:std'``,
  ``'norm:z'``: normalize over the last axis (the units of a layer)
- learnable: ``'prelu'`` (a leak per unit), ``'lgrelu'`` (a gain and a leak
  per unit), ``'maxout:K'`` (K linear pieces per unit)

Names compose with ``+``, applied left to right: ``'relu+norm:z'`` is a
rectifier followed by z-scoring. All functions act elementwise, except
softmax and the norms, which act over the last axis; an input of shape
``(..., size)`` gives an output of the same shape.

>>> act = build('relu+norm:z', layer)  # doctest: +SKIP
>>> y = act(x)  # doctest: +SKIP
"""

import numpy as np

from . import backend
from .backend import TT
from .util import ConfigurationError, Registrar

__all__ = [
    'Activation', 'build', 'Composition', 'Linear', 'Sigmoid', 'Tanh',
    'Softmax', 'Softplus', 'Softsign', 'Relu', 'RectMax', 'RectMinMax',
    'Trec', 'Tlin', 'LeakyRelu', 'Elu', 'Selu', 'NormMean', 'NormMax',
    'NormStd', 'NormZ', 'Prelu', 'LGrelu', 'Maxout',
]

#: Guard added to divisors in the normalizing activations.
EPSILON = 1e-7


def build(spec, layer, **kwargs):
    """Build the activation function named by ``spec`` for ``layer``.

    Parameters
    ----------
    spec : str, Activation or callable
        A registered name (``'relu'``), a name with an argument
        (``'maxout:4'``, ``'leaky_relu:0.2'``), names joined by ``+``
        (``'relu+norm:z'``, applied left to right), an :class:`Activation`
        (returned as is) or any callable mapping an expression to an
        expression (wrapped, with no parameters).
    layer : object
        The layer the activation belongs to; it needs ``.name`` (str, used to
        name learnable parameters ``'hid1.leak'``) and ``.size`` (int, the
        number of units on the last axis).
    **kwargs
        Passed to the activation's constructor (for example ``pieces=4``).

    Returns
    -------
    Activation or Composition
        A callable ``act(x) -> expression`` with a ``params`` list of the
        shared variables it learns.

    Raises
    ------
    ConfigurationError
        For an unknown name (the message lists the known ones) or a bad
        argument.
    """
    if isinstance(spec, (Activation, Composition)):
        return spec
    if not isinstance(spec, str):
        if callable(spec):
            return Composition([spec], name=getattr(spec, '__name__', None))
        raise ConfigurationError(
            f'expected an activation name, an Activation or a callable, got '
            f'{spec!r}')
    parts = [part.strip() for part in spec.split('+')]
    if len(parts) > 1:
        if not all(parts):
            raise ConfigurationError(f'empty name in activation {spec!r}')
        return Composition([build(part, layer, **kwargs) for part in parts],
                           name=spec)
    name = parts[0]
    if not Activation.is_registered(name) and ':' in name:
        base, arg = name.rsplit(':', 1)
        cls = Activation.lookup(base if Activation.is_registered(base)
                                else name)
        if cls.argument is None:
            raise ConfigurationError(
                f'activation {base!r} takes no argument, got {name!r}')
        key, kind = cls.argument
        try:
            kwargs[key] = kind(arg)
        except ValueError:
            raise ConfigurationError(
                f'activation {name!r}: expected a {kind.__name__} {key} after '
                f'the colon, got {arg!r}') from None
        return cls(name, layer, **kwargs)
    return Activation.lookup(name)(name, layer, **kwargs)


class Activation(Registrar):
    """An activation function for the units of one layer.

    Subclasses implement :meth:`__call__` and register under their
    lower-cased class name plus ``aliases``.

    Parameters
    ----------
    name : str
        The spec this activation was built from (``'relu'``, ``'maxout:3'``).
    layer : object
        The layer it belongs to: ``.name`` (str) and ``.size`` (int).
    **kwargs
        Options of the subclass.

    Attributes
    ----------
    params : list of SharedVariable
        Learnable parameters, named ``'{layer.name}.{suffix}'``.
    """

    _registry = {}
    _kind = 'activation'
    #: ``(keyword, type)`` for a ``'name:arg'`` spec, or None.
    argument = None

    def __init__(self, name, layer, **kwargs):
        self.name = name
        self.layer = layer
        self.kwargs = kwargs
        self.params = []

    def __call__(self, x):
        """Apply this activation to ``x``, shape ``(..., size)``.

        Returns
        -------
        Variable
            An expression of the same shape as ``x``.
        """
        raise NotImplementedError

    def __repr__(self):
        return f'{type(self).__name__}({self.name!r})'

    def _param(self, suffix, value):
        """Create a learnable floatX parameter ``'{layer}.{suffix}'``."""
        param = backend.shared(value, name=f'{self.layer.name}.{suffix}')
        self.params.append(param)
        return param


class Composition:
    """Activations applied one after another (``'relu+norm:z'``).

    Parameters
    ----------
    functions : list of callable
        Applied in order, first to last.
    name : str, optional
        A readable name; defaults to the functions' names joined by ``+``.
    """

    def __init__(self, functions, name=None):
        self.functions = list(functions)
        self.name = name or '+'.join(
            getattr(f, 'name', getattr(f, '__name__', repr(f)))
            for f in self.functions)

    @property
    def params(self):
        """Learnable parameters of all the functions, in order."""
        return [p for f in self.functions for p in getattr(f, 'params', [])]

    def __call__(self, x):
        for function in self.functions:
            x = function(x)
        return x

    def __repr__(self):
        return f'Composition({self.name!r})'


class Linear(Activation):
    """The identity: ``f(x) = x``."""
    aliases = ('identity',)

    def __call__(self, x):
        return x


class Sigmoid(Activation):
    """The logistic sigmoid ``1 / (1 + exp(-x))``."""
    aliases = ('logistic',)

    def __call__(self, x):
        return TT.sigmoid(x)


class Tanh(Activation):
    """The hyperbolic tangent."""

    def __call__(self, x):
        return TT.tanh(x)


class Softmax(Activation):
    """Normalized exponentials over the last axis (numerically stable).

    Losses recognize this output and use ``log_softmax`` of its input.
    """

    def __call__(self, x):
        return TT.special.softmax(x, axis=-1)


class Softplus(Activation):
    """``log(1 + exp(x))``, a smooth rectifier."""

    def __call__(self, x):
        return TT.softplus(x)


class Softsign(Activation):
    """``x / (1 + |x|)``."""

    def __call__(self, x):
        return x / (1 + abs(x))


class Relu(Activation):
    """The rectifier ``max(0, x)``.

    Written ``(x + |x|) / 2`` as the original theanets did: its gradient at
    exactly 0 is 1/2, not 0, so units that start at 0 (zero biases, zero
    initial recurrent state) can still learn.
    """
    aliases = ('rect:min',)

    def __call__(self, x):
        return (x + abs(x)) / 2


class RectMax(Activation):
    """Clip from above: ``min(1, x)``."""
    aliases = ('rect:max',)

    def __call__(self, x):
        return (1 + x - abs(x - 1)) / 2  # min(1, x), gradient 1/2 at 1


class RectMinMax(Activation):
    """Clip to the unit interval: ``min(1, max(0, x))``."""
    aliases = ('rect:minmax', 'trel')

    def __call__(self, x):
        return TT.clip(x, 0, 1)


class Trec(Activation):
    """Thresholded rectifier: ``x`` where ``x > 1``, else 0."""

    def __call__(self, x):
        return TT.switch(x > 1, x, 0)


class Tlin(Activation):
    """Thresholded linear: ``x`` where ``|x| > 1``, else 0."""

    def __call__(self, x):
        return TT.switch(abs(x) > 1, x, 0)


class LeakyRelu(Activation):
    """``x`` for positive ``x``, ``slope * x`` otherwise.

    Parameters
    ----------
    slope : float, default=0.01
        The slope for negative inputs; ``'leaky_relu:0.2'`` sets it.
    """
    aliases = ('leaky_relu', 'lrelu', 'leaky relu')
    argument = ('slope', float)

    def __init__(self, name, layer, slope=0.01, **kwargs):
        super().__init__(name, layer, **kwargs)
        self.slope = float(slope)

    def __call__(self, x):
        return TT.maximum(0, x) + self.slope * TT.minimum(0, x)


class Elu(Activation):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``exp(x) - 1``."""

    def __call__(self, x):
        return TT.switch(x > 0, x, TT.expm1(TT.minimum(x, 0)))


class Selu(Activation):
    """Scaled exponential linear unit (Klambauer et al., 2017)."""
    ALPHA = 1.6732632423543772
    SCALE = 1.0507009873554805

    def __call__(self, x):
        neg = self.ALPHA * TT.expm1(TT.minimum(x, 0))
        return self.SCALE * TT.switch(x > 0, x, neg)


class NormMean(Activation):
    """Subtract the mean over the last axis."""
    aliases = ('norm:mean', 'norm:dc')

    def __call__(self, x):
        return x - x.mean(axis=-1, keepdims=True)


class NormMax(Activation):
    """Divide by the largest absolute value over the last axis."""
    aliases = ('norm:max',)

    def __call__(self, x):
        return x / (abs(x).max(axis=-1, keepdims=True) + EPSILON)


class NormStd(Activation):
    """Divide by the standard deviation over the last axis."""
    aliases = ('norm:std',)

    def __call__(self, x):
        return x / (x.std(axis=-1, keepdims=True) + EPSILON)


class NormZ(Activation):
    """z-score over the last axis: subtract the mean, divide by the std."""
    aliases = ('norm:z',)

    def __call__(self, x):
        centered = x - x.mean(axis=-1, keepdims=True)
        return centered / (x.std(axis=-1, keepdims=True) + EPSILON)


class Prelu(Activation):
    """Rectifier with a learnable leak per unit (He et al., 2015).

    ``f(x) = x`` for positive ``x``, ``leak * x`` otherwise. Creates the
    parameter ``'{layer}.leak'``, shape ``(size,)``, initialized to 0.1.
    """
    aliases = ('leaky-relu',)

    def __init__(self, name, layer, **kwargs):
        super().__init__(name, layer, **kwargs)
        self.leak = self._param('leak', np.full(layer.size, 0.1))

    def __call__(self, x):
        return TT.maximum(0, x) + self.leak * TT.minimum(0, x)


class LGrelu(Activation):
    """Rectifier with a learnable gain and leak per unit.

    ``f(x) = gain * x`` for positive ``x``, ``leak * x`` otherwise. Creates
    ``'{layer}.gain'`` (initialized to 1) and ``'{layer}.leak'``
    (initialized to 0.1), each of shape ``(size,)``.
    """
    aliases = ('leaky-gain-relu',)

    def __init__(self, name, layer, **kwargs):
        super().__init__(name, layer, **kwargs)
        self.gain = self._param('gain', np.ones(layer.size))
        self.leak = self._param('leak', np.full(layer.size, 0.1))

    def __call__(self, x):
        return self.gain * TT.maximum(0, x) + self.leak * TT.minimum(0, x)


class Maxout(Activation):
    """Learnable piecewise-linear function per unit: ``max_k m_k x + b_k``.

    Each unit ``i`` has ``pieces`` slopes ``m_ik`` and intercepts ``b_ik``;
    relu is the case ``m = (0, 1), b = 0``. Spec: ``'maxout:K'``.
    Creates ``'{layer}.slope'`` and ``'{layer}.intercept'``, each of shape
    ``(size, pieces)``.

    Parameters
    ----------
    pieces : int
        Number of linear pieces, at least 1.
    rng : int or numpy random generator, optional
        Draws the initial slopes and intercepts (standard normal). Defaults
        to ``layer.rng`` when the layer has one, else seed 13.
    """
    argument = ('pieces', int)

    def __init__(self, name, layer, pieces=None, rng=None, **kwargs):
        super().__init__(name, layer, **kwargs)
        if pieces is None or int(pieces) < 1:
            raise ConfigurationError(
                f'maxout needs a number of pieces >= 1, got {pieces!r}; '
                f"write it as 'maxout:4'")
        self.pieces = int(pieces)
        rng = rng if rng is not None else getattr(layer, 'rng', None)
        if rng is None or isinstance(rng, (int, np.integer)):
            rng = np.random.default_rng(13 if rng is None else int(rng))
        shape = (layer.size, self.pieces)
        self.slope = self._param('slope', rng.standard_normal(shape))
        self.intercept = self._param('intercept', rng.standard_normal(shape))

    def __call__(self, x):
        pieces = TT.shape_padright(x) * self.slope + self.intercept
        return pieces.max(axis=-1)
