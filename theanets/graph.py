"""Network: a list of layers compiled into one graph, and its predictions.

Training lives in :mod:`theanets.trainer`, files in :mod:`theanets.saving`;
this module builds the graph, caches compiled functions, finds parameters
and predicts.
"""

import fnmatch
import inspect

import numpy as np

from . import backend, layers as L, losses as LOSSES, regularizers as REGS
from .backend import TT
from .util import ConfigurationError, closest, logger
from .validation import check_array, check_labels, check_lengths

__all__ = ['Network']


def _default_activation(cls):
    """The default of ``activation`` in a layer class's constructor."""
    for klass in cls.__mro__:
        param = inspect.signature(klass.__init__).parameters.get('activation')
        if param is not None and param.default is not inspect.Parameter.empty:
            return param.default
    return None

#: Rows per call when predicting on a large array (bounds memory).
PREDICT_BATCH = 4096


class Network:
    """A neural network: layers, losses, a graph and compiled functions.

    Parameters
    ----------
    layers : sequence of layer specs
        The first spec is the input (its size or shape); each later one a
        layer (see :func:`theanets.layers.parse_spec`); the last is the
        output layer, named ``'out'``.
    loss : str, optional
        The loss's registered name (see :mod:`theanets.losses`); defaults
        to the class's ``DEFAULT_LOSS`` (``'mse'``, or ``'xe'`` for a
        Classifier).
    weighted : bool, default=False
        When True, training and scoring data carry a trailing weights array.
    rng : int or numpy Generator, default=13
        Seeds the initial parameters (and, through the trainer, shuffling);
        None draws a fresh seed.
    **loss_options
        Passed to the loss (e.g. ``covar_name=`` for ``'gll'``).

    Attributes
    ----------
    layers : list of Layer
    losses : list of Loss
    history : list of (train_monitors, valid_monitors)
        One entry per training epoch, across every ``train`` call.
    """

    #: Activation of the output layer when its spec names none.
    DEFAULT_OUTPUT_ACTIVATION = 'linear'
    #: Loss when the constructor names none.
    DEFAULT_LOSS = 'mse'
    #: Registered model classes, by ``module.qualname`` (for loading).
    _models = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        Network._models[f'{cls.__module__}.{cls.__qualname__}'] = cls

    def __init__(self, layers=(), loss=None, weighted=False, rng=13,
                 **loss_options):
        if rng is None:
            rng = int(np.random.default_rng().integers(2 ** 31))
        self._rng_seed = int(rng) if isinstance(rng, (int, np.integer)) else None
        self._rng = (np.random.default_rng(self._rng_seed)
                     if self._rng_seed is not None else rng)
        self.weighted = bool(weighted)
        self.layers = []
        self.losses = []
        self.history = []
        self._targets = {}
        self._graphs = {}
        self._functions = {}
        self._optimizers = {}
        layers = list(layers)
        if len(layers) == 1:
            raise ConfigurationError(
                'a model needs at least an input and an output layer, got '
                f'layers={layers!r}')
        for i, spec in enumerate(layers):
            self.add_layer(spec, is_output=i == len(layers) - 1 and i > 0)
        if self.layers:
            self.set_loss(loss or self.DEFAULT_LOSS, weighted=self.weighted,
                          **loss_options)
        elif loss_options:
            raise ConfigurationError(
                f'loss options {sorted(loss_options)} need layers to apply to')

    # -- building -----------------------------------------------------------

    def add_layer(self, layer=None, is_output=False, **kwargs):
        """Add a layer on top of the model.

        Parameters
        ----------
        layer : layer spec, optional
            An int, tuple, dict, form name or Layer; ``kwargs`` are merged
            into a dict spec.
        is_output : bool, default=False
            Name it ``'out'`` and give it the model's output activation
            when the spec names none.
        """
        spec = L.parse_spec(layer if layer is not None else dict(kwargs))
        if isinstance(spec, dict):
            spec.update(kwargs if layer is not None else {})
            layer = self._make_layer(spec, is_output)
        elif kwargs:
            raise ConfigurationError(
                f'cannot combine the Layer {spec!r} with options {kwargs}')
        else:
            layer = spec
            if layer.name is None:
                layer.name = self._default_name(is_output)
            if layer.inputs is None and self.layers:
                layer.inputs = {self.layers[-1].output_name: None}
        if any(l.name == layer.name for l in self.layers):
            raise ConfigurationError(
                f'two layers are named {layer.name!r}; layer names must be '
                'unique')
        if isinstance(layer, L.Tied) and isinstance(layer.partner, str):
            layer.partner = self.find_layer(layer.partner)
        if not layer.bound:
            layer.bind(self._shapes(), rng=self._child_rng())
        self.layers.append(layer)
        self._invalidate()
        return layer

    def _default_name(self, is_output):
        if not self.layers:
            return 'in'
        return 'out' if is_output else f'hid{len(self.layers)}'

    def _child_rng(self):
        return np.random.default_rng(self._rng.integers(2 ** 31))

    def _make_layer(self, spec, is_output):
        form = spec.pop('form', None) or ('input' if not self.layers else
                                          'feedforward')
        cls = L.Layer.lookup(form)
        spec.setdefault('name', self._default_name(is_output))
        if cls is L.Input:
            if self.layers:
                raise ConfigurationError('only the first layer may be an input')
            return cls(**spec)
        if not self.layers:
            raise ConfigurationError(
                f'the first layer must be the input (a size or shape), got a '
                f'{form!r} layer')
        if 'activation' not in spec and is_output and \
                _default_activation(cls) == 'relu':
            # a form with a default of its own (classifier: softmax) keeps it
            spec['activation'] = self.DEFAULT_OUTPUT_ACTIVATION
        spec.setdefault('inputs', self.layers[-1].output_name)
        if cls is L.Tied and 'partner' not in spec:
            untied = [l for l in self.layers if not isinstance(l, L.Tied)]
            tied = len(self.layers) - len(untied)
            if tied >= len(untied) - 1:
                raise ConfigurationError(
                    f'tied layer {spec["name"]!r} has no untied layer left to '
                    'pair with; give it partner=')
            spec['partner'] = untied[-1 - tied]
        return cls(**spec)

    def _shapes(self):
        shapes = {}
        for layer in self.layers:
            shapes[layer.output_name] = layer.output_shape
            shapes[f'{layer.name}:pre'] = layer.output_shape
        return shapes

    def _invalidate(self):
        self._graphs.clear()
        self._functions.clear()
        self._optimizers.clear()

    def find_layer(self, which):
        """A layer by name or index; ``KeyError`` lists the layers."""
        if isinstance(which, (int, np.integer)):
            if -len(self.layers) <= which < len(self.layers):
                return self.layers[which]
        else:
            for layer in self.layers:
                if layer.name == which:
                    return layer
        raise KeyError(f'no layer {which!r}; the layers are: '
                       f'{", ".join(l.name for l in self.layers)}')

    def find(self, which, param):
        """A parameter of a layer: ``net.find('hid1', 'w')``.

        Parameters
        ----------
        which : str or int
            Layer name (``'hid1'``) or index (``1``, ``-1``).
        param : str or int
            Parameter name (``'w'``, ``'b'``) or index.

        Returns
        -------
        SharedVariable
            Use ``.get_value()`` for its array; ``w`` is ``(nin, nout)``.

        Raises
        ------
        KeyError
            No such layer or parameter; the message lists what exists.
        """
        return self.find_layer(which).find(param)

    # -- losses -------------------------------------------------------------

    def _target_for(self, output_name):
        """The default target of a loss on ``output_name`` (shared by losses)."""
        ndim = 1 + len(self._output_shape(output_name))
        key = ('float', ndim)
        if key not in self._targets:
            self._targets[key] = TT.tensor(dtype=backend.floatX(),
                                           shape=(None,) * ndim, name='targets')
        return self._targets[key]

    def _output_shape(self, output_name):
        name = L.output_name(output_name)
        shapes = self._shapes()
        if name not in shapes:
            raise ConfigurationError(f'no output {name!r}; outputs are: '
                                     f'{", ".join(shapes)}')
        return shapes[name]

    def add_loss(self, loss='mse', weight=1.0, output_name=None, target=None,
                 weighted=None, **kwargs):
        """Add a term to the training objective.

        Parameters
        ----------
        loss : str or Loss
            A registered loss name (``'mse'``, ``'xe'``, ...) or instance.
        weight : float, default=1.0
            Multiplies this term in the objective.
        output_name : str, optional
            The output the loss reads (``'hid1'`` means ``'hid1:out'``);
            defaults to the last layer's output.
        target : Variable or int, optional
            Defaults to the model's own target for that output (shared
            with the other losses), so no extra array is needed.
        weighted : bool, optional
            Defaults to the model's ``weighted``.
        """
        if output_name is None:
            output_name = self.output_name
        if isinstance(loss, LOSSES.Loss):
            self.losses.append(loss)
        else:
            if target is None:
                target = self._target_for(output_name)
            weighted = self.weighted if weighted is None else weighted
            kwargs.setdefault('input_ndim', self.layers[0].ndim)
            self.losses.append(LOSSES.Loss.lookup(loss)(
                target, weight=weight, weighted=weighted,
                output_name=output_name, **kwargs))
            self._share_weights(self.losses[-1])
        self._invalidate()
        return self.losses[-1]

    def _share_weights(self, loss):
        """Let every weighted loss read the same weights array."""
        for other in self.losses[:-1]:
            mine, theirs = loss.weights_variable, other.weights_variable
            if mine is not None and theirs is not None and \
                    mine.ndim == theirs.ndim:
                loss.weights_variable = theirs
                return

    def set_loss(self, *args, **kwargs):
        """Replace every loss with one built by :meth:`add_loss`."""
        self.losses = []
        return self.add_loss(*args, **kwargs)

    # -- symbolic graph -----------------------------------------------------

    @property
    def inputs(self):
        """The symbolic input arrays of the model."""
        return [l.variable for l in self.layers if isinstance(l, L.Input)]

    @property
    def variables(self):
        """Everything a training batch feeds: inputs, targets, weights."""
        out = list(self.inputs)
        for loss in self.losses:
            out.extend(v for v in loss.variables if v not in out)
        return out

    @property
    def params(self):
        """All trainable shared variables, each once, in layer order."""
        out = []
        for layer in self.layers:
            out.extend(p for p in layer.params if p not in out)
        return out

    @property
    def output_name(self):
        """The name of the model's main output, ``'out:out'``."""
        return self.layers[-1].output_name

    def build_graph(self, regularizers=()):
        """Connect the layers into one graph.

        Parameters
        ----------
        regularizers : sequence of Regularizer, optional
            Those that change the graph (noise, dropout) change it here.

        Returns
        -------
        outputs : dict
            Output name (``'hid1:out'``) -> symbolic expression.
        updates : list of (SharedVariable, expression)
        """
        # the compile mode too: layers may build mode-specific graphs
        key = (backend.config.mode,) + tuple(
            (type(r).__name__, repr(getattr(r, 'pattern', None)),
             getattr(r, 'weight', None)) for r in regularizers)
        if key not in self._graphs:
            outputs, updates = {}, []
            for layer in self.layers:
                out, upd = layer.connect(outputs)
                for reg in regularizers:
                    reg.modify_graph(out)
                outputs.update(out)
                updates.extend(upd)
            self._graphs[key] = outputs, updates
        return self._graphs[key]

    def _regularizers(self, kwargs, strict=False):
        regs, rest = REGS.from_kwargs(self.layers, **kwargs)
        if strict and rest:
            key = sorted(rest)[0]
            known = sorted(REGS.Regularizer._registry)
            raise ConfigurationError(
                f'unknown option {key!r}{closest(key, known)}; this method '
                f'takes regularizer keywords only: {", ".join(known)}')
        return regs

    def loss(self, **kwargs):
        """The symbolic training objective: weighted losses + regularizers.

        ``kwargs`` are train keywords; regularizer names among them
        (``weight_l2=1e-4``, ``hidden_dropout=0.5``) are applied.
        """
        return self._objective(self._regularizers(kwargs))

    def _objective(self, regs, outputs=None):
        """Weighted losses plus regularizer penalties on ``outputs``
        (default: the graph built with ``regs``)."""
        if outputs is None:
            outputs, _ = self.build_graph(regs)
        total = sum(l.weight * l(outputs, self.inputs) for l in self.losses)
        for reg in regs:
            total = total + reg.weight * reg.loss(self.layers, outputs)
        return total

    def updates(self, **kwargs):
        """Graph updates (e.g. of layer state) for the training graph."""
        return self.build_graph(self._regularizers(kwargs))[1]

    def monitors(self, **kwargs):
        """``(name, expression)`` pairs to report while training.

        The first is ``'err'``, the unregularized loss; classifiers add
        ``'acc'``. ``monitors={'hid1:out': (0.1, 0.9)}`` adds the fraction
        of values below each threshold (``'hid1:out<0.1'``); keys may name
        outputs or parameters (``'hid1.w'``) with glob wildcards.
        """
        outputs, _ = self.build_graph(self._regularizers(kwargs))
        return self.monitor_pairs(outputs, kwargs.get('monitors'))

    def monitor_pairs(self, outputs, monitors=None):
        """:meth:`monitors` for a graph already built (``outputs``)."""
        pairs = [('err', sum(l.weight * l(outputs, self.inputs)
                             for l in self.losses))]
        pairs.extend(self._extra_monitors(outputs))
        items = (monitors or {}).items() if isinstance(monitors, dict) or \
            not monitors else monitors
        values = dict(outputs)
        values.update((p.name, p) for p in self.params)
        for pattern, thresholds in items:
            if np.isscalar(thresholds):
                thresholds = (thresholds,)
            for name in sorted(fnmatch.filter(values, pattern)):
                if isinstance(thresholds, dict):
                    for key, fn in thresholds.items():
                        pairs.append((f'{name}:{key}', fn(values[name])))
                    continue
                for t in thresholds:
                    pairs.append((f'{name}<{t}', TT.mean(TT.lt(values[name], t))))
        return pairs

    def _extra_monitors(self, outputs):
        return []

    # -- compiled functions -------------------------------------------------

    def _compile(self, key, outputs, inputs=None):
        """Compile once per model and key, then reuse."""
        if key not in self._functions:
            fn = backend.compile(inputs or self.inputs, outputs, name=key)
            self._functions[key] = fn
        return self._functions[key]

    def _run(self, key, outputs, x, inputs=None):
        """Run a compiled function over ``x`` in bounded-size chunks."""
        fn = self._compile(key, outputs, inputs)
        parts = [fn(x[i:i + PREDICT_BATCH]) for i in range(0, len(x), PREDICT_BATCH)]
        return [np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))]

    def _check_inputs(self, x, name='inputs'):
        return check_array(x, name, self.layers[0].output_shape)

    def feed_forward(self, x, **kwargs):
        """Every named output of the model for inputs ``x``.

        Parameters
        ----------
        x : ndarray, shape ``(n,) + input shape``

        Returns
        -------
        dict
            ``'in:out'``, ``'hid1:pre'``, ``'hid1:out'``, ... -> ndarray.
        """
        x = self._check_inputs(x)
        outputs, _ = self.build_graph(self._regularizers(kwargs, strict=True))
        names = sorted(outputs)
        values = self._run(('feed_forward', repr(sorted(kwargs.items()))),
                           [outputs[n] for n in names], x)
        return dict(zip(names, values))

    def _predict_raw(self, x, output='out:out', **kwargs):
        """One output for ``x``; regularizer keywords (``hidden_dropout``)
        apply them, as in training."""
        outputs, _ = self.build_graph(self._regularizers(kwargs, strict=True))
        return self._run(('output', output, repr(sorted(kwargs.items()))),
                         [outputs[output]], self._check_inputs(x))[0]

    def predict(self, x, **kwargs):
        """The model's output for ``x``: ``(n,) + output shape``.

        Regularizer keywords (``input_noise=0.1``) apply that noise or
        dropout to this prediction; any other keyword is an error.
        """
        return self._predict_raw(x, self.output_name, **kwargs)

    def _check_targets(self, y, name='targets'):
        return check_array(y, name, self.layers[-1].output_shape, 'outputs')

    def score(self, x, y, w=None):
        """R^2 of the predictions of ``x`` against ``y`` (weighted by ``w``).

        ``1 - sum(w (y - p)^2) / sum(w (y - mean(y))^2)``, with the mean
        taken per output column; 1 is perfect. ``w`` has the shape of ``y``.
        """
        x = self._check_inputs(x)
        y = self._check_targets(y)
        check_lengths(inputs=x, targets=y)
        w = self._check_weights(w, y, x)
        w = np.ones_like(y) if w is None else w
        axes = tuple(range(y.ndim - 1))
        mean = (w * y).sum(axes) / np.maximum(1e-12, w.sum(axes))
        residual = (w * (y - self.predict(x)) ** 2).sum()
        return float(1 - residual / max(1e-12, (w * (y - mean) ** 2).sum()))

    @staticmethod
    def _check_weights(w, like, x):
        """Weights of the shape of ``like`` (targets or labels), >= 0."""
        if w is None:
            return None
        w = check_array(w, 'weights', like.shape[1:], 'weights')
        check_lengths(inputs=x, weights=w)
        if w.shape != like.shape:
            raise ValueError(f'weights: expected shape {like.shape} (that of '
                             f'the targets), got {w.shape}')
        if (w < 0).any():
            raise ValueError('weights: found a negative weight; weights must '
                             'be >= 0')
        return w

    def check_data(self, data):
        """Validate a training batch tuple against :attr:`variables`.

        Returns the tuple cast for the compiled functions (floatX, int32
        labels), in the order of :attr:`variables`.
        """
        data = tuple(data) if isinstance(data, (tuple, list)) else (data,)
        names = [v.name or 'array' for v in self.variables]
        if len(data) != len(names):
            raise ValueError(
                f'{type(self).__name__} expects {len(names)} arrays '
                f'({", ".join(names)}), got {len(data)}')
        owners = {}
        for loss in self.losses:
            for var in loss.variables:
                owners.setdefault(var, loss)
        out = []
        for var, value in zip(self.variables, data):
            if var in self.inputs:
                out.append(self._check_inputs(value, var.name))
            elif var.name == 'weights':
                out.append(self._check_weights(value, out[-1], out[0]))
            else:  # a loss's target: labels or values of its output's shape
                shape = self._output_shape(owners[var].output_name)
                if var.dtype.startswith('int'):
                    out.append(check_labels(value, var.name, shape[:-1],
                                            shape[-1]))
                else:
                    out.append(check_array(value, var.name, shape, 'outputs'))
        check_lengths(**dict(zip(names, out)))
        return tuple(out)

    # -- training, saving ---------------------------------------------------

    def itertrain(self, train, valid=None, algo='rmsprop', **kwargs):
        """Train, yielding ``(train_monitors, valid_monitors)`` per epoch.

        See :func:`theanets.trainer.itertrain` for every keyword.
        """
        from . import trainer
        return trainer.itertrain(self, train, valid, algo=algo, **kwargs)

    def train(self, train, valid=None, algo='rmsprop', **kwargs):
        """Train to the end; return the last ``(train_monitors, valid_monitors)``.

        See :func:`theanets.trainer.itertrain` for every keyword.
        """
        result = ({}, {})
        for result in self.itertrain(train, valid, algo=algo, **kwargs):
            pass
        return result

    def save(self, target):
        """Save the model (architecture + parameter arrays) to a path or file."""
        from . import saving
        saving.save(self, target)

    def load_weights(self, source):
        """Set parameters from arrays named like them (a dict or ``.npz``).

        See :func:`theanets.saving.load_weights`.
        """
        from . import saving
        saving.load_weights(self, source)

    @classmethod
    def load(cls, source):
        """Load a model saved by :meth:`save`; never unpickles."""
        from . import saving
        return saving.load(source)

    def __getstate__(self):
        from . import saving
        return saving.to_state(self)

    def __setstate__(self, state):
        from . import saving
        saving.restore_state(self, state)

    def log(self):
        """Log the architecture: one line per layer, then the losses."""
        for layer in self.layers:
            layer.log()
        logger.info('%d parameters in total', sum(
            p.get_value(borrow=True).size for p in self.params))


Network._models[f'{Network.__module__}.{Network.__qualname__}'] = Network
