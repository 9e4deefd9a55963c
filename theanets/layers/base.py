"""The layer base class, the spec parser and the input layer.

A layer is built from a *spec* (an int, a tuple, a dict or a Layer) by
:func:`parse_spec`, bound to the shapes of the outputs it reads, and then
asked for its symbolic outputs by :meth:`Layer.connect`. Every output is
named ``'<layer name>:<output>'``, for example ``'hid1:pre'`` and
``'hid1:out'``.
"""

import fnmatch

import numpy as np

from .. import activations
from ..backend import TT, floatX, shared
from ..util import ConfigurationError, Registrar, closest, logger

__all__ = ['Layer', 'Input', 'parse_spec', 'output_name', 'dot_last']

#: Initialisation options a layer spec may carry, alone (``std=0.1``) or for
#: one parameter (``std_w=0.1``, ``mean_b=1``).
INIT_OPTIONS = ('mean', 'std', 'sparsity', 'diagonal', 'radius')


def output_name(name):
    """``'hid1'`` -> ``'hid1:out'``; a name with ``':'`` is kept as it is."""
    name = str(name)
    return name if ':' in name else f'{name}:out'


def parse_spec(spec):
    """Turn one layer spec into keyword arguments for a layer.

    Parameters
    ----------
    spec : int, tuple, dict, str or Layer
        ``100``; ``(100, 'tanh')``; ``('tanh', 100)``;
        ``(6, 'linear', 'classifier')``; ``(28, 28, 1)`` (a shape);
        ``dict(size=100, activation='relu', form='ff', ...)``; ``'flat'``;
        or a :class:`Layer` instance (returned as is).

    Returns
    -------
    dict or Layer
        Keyword arguments, with ``form`` when the spec names one, or the
        Layer instance itself.

    Raises
    ------
    ConfigurationError
        For a spec of an unknown type, a tuple with two forms, or a bad size.

    Examples
    --------
    >>> parse_spec((100, 'tanh'))
    {'size': 100, 'activation': 'tanh'}
    >>> parse_spec((28, 28, 1))
    {'shape': (28, 28, 1)}
    """
    if isinstance(spec, Layer):
        return spec
    if isinstance(spec, (bool, np.bool_)):
        raise ConfigurationError(f'invalid layer spec {spec!r}')
    if isinstance(spec, (int, np.integer)):
        return _checked({'size': int(spec)}, spec)
    if isinstance(spec, str):
        if Layer.is_registered(spec):
            return {'form': spec.lower()}
        raise ConfigurationError(
            f'invalid layer spec {spec!r}: a string spec must name a layer '
            f'form{closest(spec.lower(), Layer._registry)} (known forms: '
            f'{", ".join(sorted(Layer._registry))})')
    if isinstance(spec, dict):
        return _checked(dict(spec), spec)
    if isinstance(spec, (tuple, list)):
        out, ints = {}, []
        for item in spec:
            if isinstance(item, (int, np.integer)) and not isinstance(item, bool):
                ints.append(int(item))
            elif isinstance(item, str) and Layer.is_registered(item):
                if 'form' in out:
                    raise ConfigurationError(
                        f'layer spec {spec!r} names two forms: '
                        f'{out["form"]!r} and {item!r}')
                out['form'] = item.lower()
            elif isinstance(item, (str, activations.Activation)) or callable(item):
                if 'activation' in out:
                    raise ConfigurationError(
                        f'layer spec {spec!r} names two activations: '
                        f'{out["activation"]!r} and {item!r}')
                out['activation'] = item
            elif isinstance(item, dict):
                out.update(item)
            else:
                raise ConfigurationError(
                    f'layer spec {spec!r}: cannot use {item!r}; expected a '
                    'size, an activation name or a layer form')
        if len(ints) == 1:
            out['size'] = ints[0]
        elif ints:
            out['shape'] = tuple(ints)
        return _checked(out, spec)
    raise ConfigurationError(
        f'invalid layer spec {spec!r} of type {type(spec).__name__}; expected '
        'an int, a tuple, a dict, a form name or a Layer')


def _checked(kwargs, spec):
    size = kwargs.get('size')
    if size is not None and (not isinstance(size, (int, np.integer)) or size < 1):
        raise ConfigurationError(
            f'layer spec {spec!r}: size must be a positive int, got {size!r}')
    shape = kwargs.get('shape')
    if shape is not None:
        shape = tuple(shape)
        if not shape or any(s is not None and (int(s) < 1) for s in shape):
            raise ConfigurationError(
                f'layer spec {spec!r}: shape must hold positive sizes, '
                f'got {shape!r}')
        kwargs['shape'] = shape
    return kwargs


def dot_last(x, w):
    """``x . w`` over the last axis of ``x``, for inputs of any rank.

    ``(..., k) . (k, m) -> (..., m)``. The leading axes are joined for one
    matrix product and split back with the sizes that ``x``'s type knows
    kept constant: ``TT.dot``'s own reshape multiplies symbolic sizes
    (``n * time``), which the JAX mode refuses; with a known number of time
    steps only the batch's size stays symbolic, and is never multiplied
    (as in the convolution layers).
    """
    if x.ndim <= 2:
        return TT.dot(x, w)
    lead = x.ndim - 1
    sizes = [x.shape[k] if n is None else n
             for k, n in enumerate(x.type.shape[:lead])]
    return TT.split_dims(TT.dot(TT.join_dims(x, 0, lead), w), sizes, 0)


class Layer(Registrar):
    """Base class of all layers, and their registry by ``form``.

    Parameters
    ----------
    size : int, optional
        Number of units: the size of the last axis of the output.
    inputs : str, sequence of str, or dict, optional
        The outputs this layer reads: ``'hid1'`` (meaning ``'hid1:out'``),
        ``('in:out', 'hid1:out')``, or ``{'in:out': 784}`` with sizes.
        Defaults to the previous layer's output.
    name : str, optional
        Defaults to ``'hid<N>'`` (or ``'out'`` for the output layer).
    activation : str or callable, default='relu'
        See :mod:`theanets.activations`.
    shape : tuple of int, optional
        The output shape without the batch axis, for layers with several
        axes; its last entry is ``size``.
    rng : int or numpy Generator, optional
        Seed for the initial parameter values.
    mean, std, sparsity, diagonal, radius : float, optional
        Initialisation of all weights; ``std_w=`` and friends for one
        parameter. See :meth:`add_weights`.
    """

    _registry = {}
    _kind = 'layer form'

    def __init__(self, size=None, inputs=None, name=None, activation='relu',
                 shape=None, rng=None, **kwargs):
        for key in kwargs:
            if key.split('_')[0] not in INIT_OPTIONS:
                known = list(INIT_OPTIONS) + ['size', 'inputs', 'name',
                                              'activation', 'shape', 'rng']
                raise ConfigurationError(
                    f'{type(self).__name__} layer {name or ""!r} got an '
                    f'unknown option {key!r}{closest(key, known)}; known '
                    f'options: {", ".join(known)} (and <option>_<param>)')
        if shape is not None:
            shape = tuple(shape)
            if size is not None and shape[-1] != size:
                raise ConfigurationError(
                    f'layer {name!r}: size={size} disagrees with '
                    f'shape={shape}')
            size = shape[-1]
        self.size = size
        self._shape = shape
        self.name = name
        self.activation = activation
        self.kwargs = kwargs
        self.inputs = self._parse_inputs(inputs)
        self._rng = rng
        self._params = []
        self._act = None
        self.input_shapes = None  # name -> shape, set by bind()

    @staticmethod
    def _parse_inputs(inputs):
        if inputs is None:
            return None
        if isinstance(inputs, str):
            return {output_name(inputs): None}
        if isinstance(inputs, dict):
            return {output_name(k): (None if v is None else
                                     (tuple(v) if isinstance(v, (tuple, list))
                                      else (int(v),)))
                    for k, v in inputs.items()}
        return {output_name(k): None for k in inputs}

    # -- binding ------------------------------------------------------------

    @property
    def bound(self):
        """True once the layer knows its input shapes and has parameters."""
        return self.input_shapes is not None

    def bind(self, shapes, rng=None):
        """Resolve input shapes from ``shapes`` and create the parameters.

        Parameters
        ----------
        shapes : dict
            Output name -> shape (without the batch axis) of every output
            built so far.
        rng : numpy Generator, optional
            Used when the layer has no ``rng`` of its own.
        """
        resolved = {}
        for name, shape in self.inputs.items():
            if shape is None:
                if name not in shapes:
                    raise ConfigurationError(
                        f'layer {self.name!r} reads {name!r}, which is not '
                        f'an output of an earlier layer; known outputs: '
                        f'{", ".join(shapes)}')
                shape = shapes[name]
            resolved[name] = tuple(shape)
        self.input_shapes = resolved
        if isinstance(self._rng, (int, np.integer)):
            self._rng = np.random.default_rng(int(self._rng))
        elif self._rng is None:
            self._rng = rng if rng is not None else np.random.default_rng(13)
        self.setup()
        self._check_param_options()
        self._act = activations.build(self.activation, self)
        self._params.extend(p for p in self._act.params if p not in self._params)
        return self

    def setup(self):
        """Create this layer's parameters (called once, by :meth:`bind`)."""

    def _check_param_options(self):
        """``std_w=`` and friends must name a parameter of this layer."""
        names = [p.name.split('.', 1)[-1] for p in self._params]
        for key in self.kwargs:
            option, _, param = key.partition('_')
            if param and param not in names:
                raise ConfigurationError(
                    f'layer {self.name!r}: option {key!r} names no parameter '
                    f'of this layer{closest(param, names)}; its parameters '
                    f'are: {", ".join(names) or "(none)"}')

    @property
    def rng(self):
        """The numpy Generator that draws this layer's initial values."""
        return self._rng

    @property
    def input_shape(self):
        """The shape of the only input (without the batch axis)."""
        if len(self.input_shapes) != 1:
            raise ConfigurationError(
                f'layer {self.name!r} has {len(self.input_shapes)} inputs; '
                'expected exactly one')
        return next(iter(self.input_shapes.values()))

    @property
    def input_size(self):
        """The last-axis size of the only input."""
        return self.input_shape[-1]

    @property
    def output_shape(self):
        """The output shape without the batch axis, e.g. ``(100,)``."""
        if self._shape is not None:
            return self._shape
        first = next(iter(self.input_shapes.values()))
        return tuple(first[:-1]) + (self.size,)

    @property
    def output_name(self):
        """The name of this layer's main output: ``'<name>:out'``."""
        return f'{self.name}:out'

    @property
    def params(self):
        """The layer's shared-variable parameters, activations' included."""
        return list(self._params)

    # -- graph --------------------------------------------------------------

    def connect(self, inputs):
        """Build this layer's outputs from the outputs built so far.

        Parameters
        ----------
        inputs : dict
            Full output name (``'hid1:out'``) -> symbolic expression.

        Returns
        -------
        outputs : dict
            ``'<name>:<key>'`` -> expression, for each output of
            :meth:`transform`.
        updates : list of (SharedVariable, expression)
        """
        result = self.transform({k: inputs[k] for k in self.inputs})
        updates = []
        if isinstance(result, tuple):
            result, updates = result
        if not isinstance(result, dict):
            result = {'out': result}
        return {f'{self.name}:{k}': v for k, v in result.items()}, list(updates)

    def transform(self, inputs):
        """Compute outputs from ``inputs`` (name -> expression).

        Returns ``{'pre': ..., 'out': ...}``, a single expression (the
        ``'out'`` output), or ``(dict, updates)``.
        """
        raise NotImplementedError(
            f'{type(self).__name__} must define transform(inputs)')

    def _only_input(self, inputs):
        return next(iter(inputs.values()))

    # -- parameters ---------------------------------------------------------

    def _fmt(self, name):
        return f'{self.name}.{name}'

    def _option(self, key, param, default):
        return self.kwargs.get(f'{key}_{param}', self.kwargs.get(key, default))

    def add_weights(self, name, nin, nout, mean=0, std=None, sparsity=0,
                    diagonal=0):
        """Create a weight matrix ``(nin, nout)`` named ``'<layer>.<name>'``.

        Values are normal with ``mean`` and ``std`` (Glorot-scaled,
        ``sqrt(2 / (nin + nout))``, when not given); a fraction ``sparsity``
        of them is zeroed; ``diagonal`` > 0 gives that value on the diagonal
        and zeros elsewhere; ``radius`` > 0 rescales to that spectral radius.
        ``diagonal`` and ``radius`` apply to square matrices only (a
        recurrent layer's input weights stay random). The spec's options (``std=``, ``std_w=``) win over
        these arguments.
        """
        mean = self._option('mean', name, mean)
        std = self._option('std', name, std)
        sparsity = self._option('sparsity', name, sparsity)
        diagonal = self._option('diagonal', name, diagonal)
        radius = self._option('radius', name, 0)
        if std is None:
            std = np.sqrt(2.0 / (nin + nout))
        if diagonal and nin == nout:
            value = np.eye(nin, nout) * diagonal
        else:
            value = self._rng.normal(mean, std, size=(nin, nout))
        if sparsity:
            value *= self._rng.uniform(size=value.shape) >= sparsity
        if radius and nin == nout:
            value *= radius / max(1e-10, np.abs(np.linalg.eigvals(value)).max())
        return self._add_param(name, value)

    def add_bias(self, name, size, mean=0, std=0):
        """Create a bias vector ``(size,)``: ``mean`` plus normal noise.

        Only per-parameter options (``mean_b=``, ``std_b=``) apply here; the
        plain ``mean``/``std`` options are for weights.
        """
        mean = self.kwargs.get(f'mean_{name}', mean)
        std = self.kwargs.get(f'std_{name}', std)
        value = mean + (self._rng.normal(0, std, size=size) if std else
                        np.zeros(size))
        return self._add_param(name, value)

    def _add_param(self, name, value):
        value = np.asarray(value, dtype=floatX())
        # A static shape lets PyTensor specialise (and compile) less code.
        param = shared(value, name=self._fmt(name), shape=value.shape)
        self._params.append(param)
        return param

    def find(self, key):
        """A parameter by short name (``'w'``), full name (``'hid1.w'``),
        glob or index.

        Raises
        ------
        KeyError
            When no parameter matches; the message lists the parameters.
        """
        if isinstance(key, (int, np.integer)):
            if -len(self._params) <= key < len(self._params):
                return self._params[key]
        else:
            for param in self._params:
                if key in (param.name, param.name.split('.', 1)[-1]) or \
                        fnmatch.fnmatchcase(param.name, self._fmt(key)):
                    return param
        names = [p.name.split('.', 1)[-1] for p in self._params]
        raise KeyError(f'layer {self.name!r} has no parameter {key!r}; its '
                       f'parameters are: {", ".join(names) or "(none)"}')

    # -- description --------------------------------------------------------

    def to_spec(self):
        """The JSON-able dict that rebuilds this layer (without values)."""
        act = self.activation
        if not isinstance(act, str):
            act = getattr(act, 'name', None)
            if not isinstance(act, str):
                raise ConfigurationError(
                    f'layer {self.name!r}: activation {self.activation!r} '
                    'is not a registered name, so the model cannot be saved')
        spec = dict(form=type(self).__name__.lower(), name=self.name,
                    size=self.size, activation=act,
                    inputs={k: list(v) for k, v in self.input_shapes.items()})
        if self._shape is not None:
            spec['shape'] = list(self._shape)
        spec.update(self.kwargs)
        return spec

    def log(self):
        """Log a one-line description of this layer."""
        ins = ' '.join(f'{k}{list(v)}' for k, v in self.input_shapes.items())
        count = sum(int(np.prod(p.get_value(borrow=True).shape))
                    for p in self._params)
        logger.info('layer %s %r: %s -> %s %s, %d parameters',
                    type(self).__name__, self.name, ins,
                    list(self.output_shape), self.activation, count)

    def __repr__(self):
        return (f'{type(self).__name__}(name={self.name!r}, size={self.size}, '
                f'activation={self.activation!r})')


class Input(Layer):
    """The input of a model: a symbolic array of shape ``(n,) + shape``.

    Parameters
    ----------
    size : int, optional
        Number of features (the last axis).
    shape : tuple of int, optional
        The shape of one sample: ``(784,)``, ``(time, 5)`` with ``None`` for
        the time axis, ``(28, 28, 1)`` for images.
    name : str, default='in'
    """

    def __init__(self, size=None, shape=None, name='in', inputs=None,
                 activation='linear', **kwargs):
        if shape is None and size is None:
            raise ConfigurationError('an Input layer needs a size or a shape')
        super().__init__(size=size, shape=shape or (size,), name=name or 'in',
                         activation='linear', **kwargs)
        self.inputs = {}
        self.variable = TT.tensor(dtype=floatX(), name=self.name,
                                  shape=(None,) + tuple(self._shape))

    def bind(self, shapes, rng=None):
        self.input_shapes = {}
        return self

    @property
    def ndim(self):
        """Number of axes of the input array, the batch axis included."""
        return 1 + len(self._shape)

    def transform(self, inputs):
        return self.variable

    def to_spec(self):
        return dict(form='input', name=self.name, shape=list(self._shape))

    def log(self):
        logger.info('layer Input %r: %s', self.name, list(self._shape))
