"""Recurrent layers: outputs that depend on earlier time steps.

Every recurrent layer reads a batch-major input ``(n, time, features)`` and
returns batch-major outputs ``(n, time, size)``; inside, the input is moved
to time-major order for one :func:`scan` over the time axis, then moved
back. The input projections (``x . xh``) are computed for all time steps
at once, outside the loop; only the recurrent products run step by step.
Inside the loop ``tanh`` is computed as ``2 sigmoid(2 x) - 1`` (the same
function; PyTensor's C ``tanh`` is several times slower than its
sigmoid), and the LSTM keeps its gates as loop outputs so that the
backward pass reads them instead of recomputing them; without peepholes it
takes one sigmoid over its whole (contiguous) gate block per step.

In the ``'c'`` and ``'python'`` modes an LSTM with ``tanh`` and no
``bptt_limit`` does not use ``scan``: one fused operation
(:func:`theanets.backend.lstm.lstm_loop`, C code) runs its whole
recurrence, forward and backward.

Recurrent layers belong in the models of :mod:`theanets.recurrent`, whose
inputs are ``(n, time, features)`` arrays; the output shape of a layer
(without the batch axis) is ``(None, size)``: any number of time steps, or
``(time, size)`` when the model's input fixes it. Then the loop's length
and every size but the batch's stay constants in the graph, which is what
PyTensor's JAX backend needs to compile the loop (``bptt_limit`` aside).

>>> net = theanets.recurrent.Classifier([5, ('lstm', 8), 3])  # doctest: +SKIP
>>> net.feed_forward(x)['hid1:cell'].shape  # (n, time, 8)  # doctest: +SKIP
"""

import numpy as np

from ..activations import Tanh
from ..backend import TT, config, floatX, scan
from ..backend.lstm import lstm_loop
from ..util import ConfigurationError
from .base import Layer, dot_last, output_name

__all__ = ['Recurrent', 'RNN', 'RRNN', 'MRNN', 'LSTM', 'GRU', 'Clockwork',
           'MUT1', 'SCRN', 'Bidirectional']

_DIRECTIONS = {'forward': 'forward', 'forwards': 'forward', 'fw': 'forward',
               'backward': 'backward', 'backwards': 'backward',
               'back': 'backward', 'bw': 'backward'}


def _swap(x):
    """``(a, b, k) -> (b, a, k)``: batch-major <-> time-major."""
    return x.dimshuffle(1, 0, 2)


def _valid_steps(x):
    """``(time, n, 1)`` booleans: False on a sequence's trailing steps whose
    features (last axis of the batch-major ``x``) are all zero."""
    nonzero = TT.neq(x, 0).any(axis=-1)
    valid = TT.cumsum(nonzero[:, ::-1], axis=1)[:, ::-1] > 0
    return valid.T[:, :, None]


class Recurrent(Layer):
    """Base class of recurrent layers: the loop, initial states, options.

    Parameters
    ----------
    size : int
        Number of units.
    activation : str, default='tanh'
        The layer's nonlinearity (gates always use the logistic sigmoid).
    direction : {'forward', 'backward'}, default='forward'
        ``'backward'`` runs the recurrence from the last time step to the
        first; outputs stay in the input's time order.
    bptt_limit : int, default=-1
        Back-propagate through at most this many time steps (-1: all).
    h_0 : None, 'learn' or str, default=None
        Initial hidden state: zeros, a learned vector ``h_0`` shared by all
        sequences, or the name of an earlier output of shape ``(n, size)``
        (``'enc'`` or ``'enc:out'``). Layers with more states take
        ``c_0`` (LSTM) or ``s_0`` (SCRN) the same way.
    mask : None or str, default=None
        The name of a sequence output ``(n, time, k)``, usually ``'in'``
        (the model's input), whose trailing all-zero time steps are
        padding: the layer keeps its states unchanged through them, so a
        backward layer starts each sequence at its own last real step.
        Pad with zeros (as :func:`theanets.recurrent.batches` does with
        ``mask=True``).
    **kwargs
        See :class:`~theanets.layers.base.Layer`. Recurrent weight
        matrices (``hh`` and friends) start orthogonal unless ``std``,
        ``diagonal`` or ``radius`` say otherwise (``radius`` rescales them
        to that spectral radius).

    Notes
    -----
    Masking: with ``direction='forward'``, padding at the end of a sequence
    does not change the outputs of the earlier steps, so a zero weight on
    the padded steps removes them from the loss and gradient exactly. A
    backward (or bidirectional) layer needs ``mask='in'`` for that: without
    it the backward recurrence starts at the padding. With it, the outputs
    on real steps equal those of each sequence run alone; on padded steps
    they are the carried states (give those steps zero weight). A real
    sequence that ends in all-zero input vectors is cut there too; a
    backward clockwork layer counts its ticks from the last padded step.
    """

    #: Names of the recurrent states; each has an ``<state>_0`` option.
    STATES = ('h',)

    def __init__(self, size=None, direction='forward', bptt_limit=-1,
                 h_0=None, activation='tanh', mask=None, **kwargs):
        key = str(direction).lower()
        if key not in _DIRECTIONS:
            raise ConfigurationError(
                f'{type(self).__name__} layer {kwargs.get("name")!r}: '
                f"direction must be 'forward' or 'backward', got "
                f'{direction!r}')
        self.direction = _DIRECTIONS[key]
        self.bptt_limit = int(bptt_limit)
        if mask is not None and not isinstance(mask, str):
            raise ConfigurationError(
                f'{type(self).__name__} layer {kwargs.get("name")!r}: mask '
                f"must be None or an output name such as 'in', got {mask!r}")
        self.mask = mask
        self.initial = {'h': h_0}
        for state in self.STATES[1:]:
            self.initial[state] = kwargs.pop(f'{state}_0', None)
        for state, value in self.initial.items():
            if value is not None and not isinstance(value, str):
                raise ConfigurationError(
                    f'{state}_0 must be None, \'learn\' or an output name, '
                    f'got {value!r}')
        super().__init__(size=size, activation=activation, **kwargs)
        if self.size is None:
            raise ConfigurationError(
                f'{type(self).__name__} layer {self.name!r} needs a size')

    def _state_input(self, state):
        value = self.initial.get(state)
        if value is None or value in ('zero', 'zeros', 'learn'):
            return None
        return output_name(value)

    @property
    def _main(self):
        return next(iter(self.inputs))

    @property
    def _mask_input(self):
        return None if self.mask is None else output_name(self.mask)

    def bind(self, shapes, rng=None):
        for state in self.STATES:
            name = self._state_input(state)
            if name is not None:
                self.inputs.setdefault(name, None)
        if self._mask_input is not None:
            self.inputs.setdefault(self._mask_input, None)
        super().bind(shapes, rng)
        if self._mask_input is not None and \
                len(self.input_shapes[self._mask_input]) != 2:
            dims = ', '.join(map(str, self.input_shapes[self._mask_input]))
            raise ConfigurationError(
                f'layer {self.name!r}: mask reads {self._mask_input!r} of '
                f'shape (n, {dims}); expected a sequence (n, time, k), '
                "such as the model's input 'in'")
        for state in self.STATES:
            name = self._state_input(state)
            if name is not None and self.input_shapes[name] != (self.size,):
                raise ConfigurationError(
                    f'layer {self.name!r}: {state}_0 reads {name!r} of shape '
                    f'(n, {", ".join(map(str, self.input_shapes[name]))}); '
                    f'expected (n, {self.size})')
            if self.initial[state] == 'learn':
                self._add_param(f'{state}_0', np.zeros(self.size))
        return self

    @property
    def input_shape(self):
        """Shape of the sequence input (without the batch axis)."""
        return self.input_shapes[self._main]

    @property
    def output_shape(self):
        return tuple(self.input_shape[:-1]) + (self.size,)

    def setup(self):
        if len(self.input_shape) != 2:
            dims = ', '.join(map(str, self.input_shape))
            raise ConfigurationError(
                f'{type(self).__name__} layer {self.name!r} needs inputs of '
                f'shape (n, time, features), but {self._main!r} is '
                f'(n, {dims}); use a model from theanets.recurrent')
        self.setup_params()

    def setup_params(self):
        """Create the parameters (the input is known to be a sequence)."""
        raise ConfigurationError(
            f'layer {self.name!r}: {type(self).__name__} is a base class; use '
            'a recurrent form such as rnn, lstm or gru')

    # -- helpers for subclasses ----------------------------------------------

    def add_recurrent(self, name, blocks=1):
        """Create a ``(size, blocks * size)`` matrix of square blocks.

        Each block is a random orthogonal matrix, unless the spec gives
        ``std`` (normal values), ``diagonal`` (a scaled identity); then
        ``sparsity`` zeroes a fraction and ``radius`` rescales each block to
        that spectral radius.
        """
        n = self.size
        std = self._option('std', name, None)
        diagonal = self._option('diagonal', name, 0)
        sparsity = self._option('sparsity', name, 0)
        radius = self._option('radius', name, 0)
        blocks_ = []
        for _ in range(blocks):
            if diagonal:
                w = np.eye(n) * diagonal
            elif std is None:
                q, r = np.linalg.qr(self._rng.normal(size=(n, n)))
                w = q * np.sign(np.diag(r))
            else:
                mean = self._option('mean', name, 0)
                w = self._rng.normal(mean, std, (n, n))
            if sparsity:
                w = w * (self._rng.uniform(size=w.shape) >= sparsity)
            if radius:
                w = w * radius / max(1e-10, np.abs(np.linalg.eigvals(w)).max())
            blocks_.append(w)
        return self._add_param(name, np.concatenate(blocks_, axis=1))

    def _sequence(self, inputs):
        """The input, time-major: ``(time, n, features)``."""
        return _swap(inputs[self._main])

    def _initial_state(self, state, inputs, batch):
        """Initial value of ``state`` for a batch: ``(batch, size)``."""
        name = self._state_input(state)
        if name is not None:
            return inputs[name]
        if self.initial[state] == 'learn':
            return TT.alloc(self.find(f'{state}_0'), batch, self.size)
        return TT.zeros((batch, self.size), dtype=floatX())

    def _loop_act(self, x):
        """``(activation(x), what its gradient reads)``, for loop bodies.

        ``tanh`` is computed as ``2 sigmoid(2 x) - 1`` and its gradient
        reads ``sigmoid(2 x)``; a body that returns that second value as a
        loop output spares the backward pass from recomputing it.
        """
        if isinstance(self._act, Tanh):
            s = TT.sigmoid(2 * x)
            return 2 * s - 1, s
        y = self._act(x)
        return y, y

    def _g(self, x):
        """The activation inside a loop body (fast ``tanh``)."""
        return self._loop_act(x)[0]

    def _scan(self, step, sequences, outputs_info, inputs=None, saved=0):
        """Run ``step`` over time-major ``sequences``; batch-major results.

        ``step(*sequences_t, *states_tm1)`` returns one value per entry of
        ``outputs_info`` (None: not fed back), then ``saved`` values kept
        only for the backward pass (dropped from the results). With a
        ``mask`` (read from ``inputs``), states stay unchanged on padding.
        """
        sequences, infos = list(sequences), list(outputs_info)
        if self._mask_input is not None:
            count = len(sequences)
            sequences.append(_valid_steps(inputs[self._mask_input]))

            def body(*args):
                valid, prev = args[count], args[count + 1:]
                outs = step(*args[:count], *prev)
                prev = iter(prev)
                return [o if i is None else TT.switch(valid, o, next(prev))
                        for o, i in zip(outs, infos)] + list(outs[len(infos):])
        else:
            body = step
        backward = self.direction == 'backward'
        if backward:
            sequences = [s[::-1] for s in sequences]
        # a known number of time steps stays a constant (for the JAX mode)
        steps = next((s.type.shape[0] for s in sequences
                      if s.type.shape[0] is not None), None)
        results = scan(body, sequences=sequences,
                       outputs_info=infos + [None] * saved, n_steps=steps,
                       truncate_gradient=self.bptt_limit, return_list=True,
                       return_updates=False, name=self._fmt('scan'))
        results = [r if steps is None else TT.specify_shape(r, (steps,) + (
            None,) * (r.ndim - 1)) for r in results[:len(infos)]]
        if backward:
            results = [r[::-1] for r in results]
        return [_swap(r) for r in results]

    def to_spec(self):
        spec = super().to_spec()
        spec.update(direction=self.direction, bptt_limit=self.bptt_limit,
                    mask=self.mask)
        spec.update((f'{s}_0', v) for s, v in self.initial.items())
        return spec


class RNN(Recurrent):
    """A simple (Elman) recurrent layer.

    ``h_t = activation(x_t . xh + h_{t-1} . hh + b)``

    Parameters ``xh`` ``(nin, size)``, ``hh`` ``(size, size)``, ``b``.
    Outputs ``pre``, ``out`` ``(n, time, size)``.
    """

    def setup_params(self):
        self.add_weights('xh', self.input_size, self.size)
        self.add_recurrent('hh')
        self.add_bias('b', self.size)

    def transform(self, inputs):
        x = self._sequence(inputs)
        hh = self.find('hh')

        def step(x_t, h_tm1):
            pre = x_t + TT.dot(h_tm1, hh)
            return [pre, self._g(pre)]

        pre, out = self._scan(
            step, [dot_last(x, self.find('xh')) + self.find('b')],
            [None, self._initial_state('h', inputs, x.shape[1])], inputs)
        return dict(pre=pre, out=out)


def _fixed_rates(layer, rate, rates):
    """Fixed per-unit rates for ``rate='uniform'|'log'`` (kept in the spec)."""
    if rates is None:
        if rate == 'uniform':
            rates = layer._rng.uniform(1e-4, 1 - 1e-4, size=layer.size)
        else:
            rates = np.exp(layer._rng.uniform(-6, -1e-4, size=layer.size))
    rates = np.asarray(rates, dtype=float)
    if rates.shape != (layer.size,) or (rates <= 0).any() or (rates > 1).any():
        raise ConfigurationError(
            f'layer {layer.name!r}: rates must be {layer.size} values in '
            f'(0, 1], got shape {rates.shape}')
    return [float(r) for r in rates]


class _Rates:
    """Mixin for layers with per-unit update rates (:class:`RRNN`, SCRN).

    ``rate`` picks how the rates are made (``RATES[0]`` by default);
    ``'uniform'`` and ``'log'`` draw fixed rates once and keep them in
    ``rates`` (saved with the model).
    """

    RATES = ()

    def __init__(self, rate=None, rates=None, **kwargs):
        self.rate = str(rate or self.RATES[0]).lower()
        if self.rate not in self.RATES:
            raise ConfigurationError(
                f'{type(self).__name__} layer {kwargs.get("name")!r}: rate '
                f'must be one of {", ".join(self.RATES)}, got {rate!r}')
        self.rates = rates
        super().__init__(**kwargs)

    def _setup_rates(self):
        if self.rate in ('uniform', 'log'):
            self.rates = _fixed_rates(self, self.rate, self.rates)
        elif self.rate == 'vector':
            self.add_bias('r', self.size)

    def _rate_vector(self):
        """Per-unit rates ``(size,)`` (for every rate but ``'matrix'``)."""
        if self.rate == 'vector':
            return TT.sigmoid(self.find('r'))
        return TT.constant(np.asarray(self.rates, dtype=floatX()))

    def to_spec(self):
        spec = super().to_spec()
        spec['rate'] = self.rate
        if self.rate in ('uniform', 'log'):
            spec['rates'] = self.rates
        return spec


class RRNN(_Rates, Recurrent):
    """A recurrent layer whose units update at a rate.

    ``h_t = (1 - r_t) * h_{t-1} + r_t * g(x_t . xh + h_{t-1} . hh + b)``
    with ``g`` the activation.

    Outputs ``pre``, ``hid`` (before mixing), ``rate`` and ``out``, all
    ``(n, time, size)``.

    Parameters
    ----------
    rate : {'matrix', 'vector', 'uniform', 'log'}, default='matrix'
        ``'matrix'``: ``r_t = sigmoid(x_t . xr + r)`` (parameters ``xr``,
        ``r``); ``'vector'``: one learned rate per unit, ``sigmoid(r)``;
        ``'uniform'`` / ``'log'``: fixed random rates, uniform in (0, 1) or
        log-uniform in (e^-6, 1).
    rates : list of float, optional
        The fixed rates (saved with the model); drawn when not given.
    """

    RATES = ('matrix', 'vector', 'uniform', 'log')

    def setup_params(self):
        self.add_weights('xh', self.input_size, self.size)
        self.add_recurrent('hh')
        self.add_bias('b', self.size)
        if self.rate == 'matrix':
            self.add_weights('xr', self.input_size, self.size)
            self.add_bias('r', self.size)
        self._setup_rates()

    def transform(self, inputs):
        x = self._sequence(inputs)
        hh = self.find('hh')

        def step(x_t, r_t, h_tm1):
            pre = x_t + TT.dot(h_tm1, hh)
            hid = self._g(pre)
            return [pre, hid, (1 - r_t) * h_tm1 + r_t * hid]

        xh = dot_last(x, self.find('xh')) + self.find('b')
        if self.rate == 'matrix':
            rate = TT.sigmoid(dot_last(x, self.find('xr')) + self.find('r'))
        else:
            rate = TT.ones_like(xh) * self._rate_vector()
        pre, hid, out = self._scan(
            step, [xh, rate],
            [None, None, self._initial_state('h', inputs, x.shape[1])],
            inputs)
        return dict(pre=pre, hid=hid, rate=_swap(rate), out=out)


class MRNN(Recurrent):
    """A multiplicative recurrent layer (Sutskever et al., 2011).

    The input gates a factored recurrent matrix:
    ``h_t = activation(x_t . xh + ((x_t . xf) * (h_{t-1} . hf)) . fh + b)``.

    Parameters ``xh``, ``xf``, ``hf``, ``fh``, ``b``. Outputs ``pre``,
    ``factors`` ``(n, time, factors)`` and ``out``.

    Parameters
    ----------
    factors : int, optional
        Number of factors; default ``ceil(sqrt(size))``.
    """

    def __init__(self, factors=None, **kwargs):
        super().__init__(**kwargs)
        self.factors = int(factors or np.ceil(np.sqrt(self.size)))
        if self.factors < 1:
            raise ConfigurationError(
                f'MRNN: factors must be >= 1, got {factors!r}')

    def setup_params(self):
        self.add_weights('xh', self.input_size, self.size)
        self.add_weights('xf', self.input_size, self.factors)
        self.add_weights('hf', self.size, self.factors)
        self.add_weights('fh', self.factors, self.size)
        self.add_bias('b', self.size)

    def transform(self, inputs):
        x = self._sequence(inputs)
        hf, fh = self.find('hf'), self.find('fh')

        def step(x_t, f_t, h_tm1):
            pre = x_t + TT.dot(f_t * TT.dot(h_tm1, hf), fh)
            return [pre, self._g(pre)]

        f = dot_last(x, self.find('xf'))
        pre, out = self._scan(
            step, [dot_last(x, self.find('xh')) + self.find('b'), f],
            [None, self._initial_state('h', inputs, x.shape[1])], inputs)
        return dict(pre=pre, factors=_swap(f), out=out)

    def to_spec(self):
        return dict(super().to_spec(), factors=self.factors)


class LSTM(Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997; Graves, 2013).

    With ``g`` the activation (tanh by default) and ``s`` the sigmoid::

        i_t = s(x_t . xh_i + h_{t-1} . hh_i + b_i + c_{t-1} * ci)
        f_t = s(x_t . xh_f + h_{t-1} . hh_f + b_f + c_{t-1} * cf)
        c_t = f_t * c_{t-1} + i_t * g(x_t . xh_c + h_{t-1} . hh_c + b_c)
        o_t = s(x_t . xh_o + h_{t-1} . hh_o + b_o + c_t * co)
        h_t = o_t * g(c_t)

    Parameters ``xh`` ``(nin, 4 size)`` and ``hh`` ``(size, 4 size)`` (gate
    blocks in the order i, f, c, o), ``b`` ``(4 size,)`` (forget-gate block
    starts at 1), and the peepholes. Outputs ``out`` and ``cell``.

    Parameters
    ----------
    peepholes : bool, default=True
        Include the diagonal peephole weights ``ci``, ``cf``, ``co``.
    c_0 : None, 'learn' or str, default=None
        Initial cell state, like ``h_0``.

    Notes
    -----
    With ``tanh`` and no ``bptt_limit``, the ``'c'`` and ``'python'`` modes
    compute the recurrence with :func:`theanets.backend.lstm.lstm_loop` (one
    operation, C code); otherwise, and in the other modes, with ``scan``.
    Both compute the equations above (``test/test_lstm_loop.py``).
    """

    STATES = ('h', 'c')

    def __init__(self, peepholes=True, **kwargs):
        self.peepholes = bool(peepholes)
        super().__init__(**kwargs)

    def setup_params(self):
        n = self.size
        self.add_weights('xh', self.input_size, 4 * n)
        self.add_recurrent('hh', blocks=4)
        b = self.add_bias('b', 4 * n)
        if 'mean_b' not in self.kwargs:
            value = b.get_value()
            value[n:2 * n] += 1
            b.set_value(value)
        if self.peepholes:
            for name in ('ci', 'cf', 'co'):
                self.add_bias(name, n)

    @property
    def _looped(self):
        """Whether the fused loop operation computes this layer: with tanh
        and no ``bptt_limit``, in the ``'c'`` and ``'python'`` modes (the
        other modes compile ``scan``, which they translate)."""
        return (isinstance(self._act, Tanh) and self.bptt_limit == -1 and
                config.mode in ('c', 'python'))

    def transform(self, inputs):
        x = self._sequence(inputs)
        if self._looped:
            return self._transform_loop(inputs, x)
        n, hh = self.size, self.find('hh')
        if not self.peepholes and isinstance(self._act, Tanh):
            return self._transform_fused(inputs, x)
        peep = [self.find(p) for p in ('ci', 'cf', 'co')] if self.peepholes \
            else [0, 0, 0]

        def step(z_t, h_tm1, c_tm1):
            z = z_t + TT.dot(h_tm1, hh)
            i = TT.sigmoid(z[:, :n] + c_tm1 * peep[0])
            f = TT.sigmoid(z[:, n:2 * n] + c_tm1 * peep[1])
            g, g_saved = self._loop_act(z[:, 2 * n:3 * n])
            c = f * c_tm1 + i * g
            o = TT.sigmoid(z[:, 3 * n:] + c * peep[2])
            a, a_saved = self._loop_act(c)
            # the gates are loop outputs too, read by the backward pass
            return [o * a, c, i, f, o, g_saved, a_saved]

        batch = x.shape[1]
        out, cell = self._scan(
            step, [dot_last(x, self.find('xh')) + self.find('b')],
            [self._initial_state('h', inputs, batch),
             self._initial_state('c', inputs, batch)], inputs, saved=5)
        return dict(out=out, cell=cell)

    def _transform_loop(self, inputs, x):
        """The recurrence as one operation (:func:`lstm_loop`), forward and
        backward in C, instead of ``scan``."""
        batch = x.shape[1]
        z = dot_last(x, self.find('xh'))
        peep = TT.stack([self.find(p) for p in ('ci', 'cf', 'co')]) \
            if self.peepholes else None
        valid = None if self._mask_input is None else \
            _valid_steps(inputs[self._mask_input])[:, :, 0]
        backward = self.direction == 'backward'
        if backward:
            z = z[::-1]
            valid = None if valid is None else valid[::-1]
        h, c = lstm_loop(z, self.find('b'), self.find('hh'),
                         self._initial_state('h', inputs, batch),
                         self._initial_state('c', inputs, batch), peep, valid)
        if backward:
            h, c = h[::-1], c[::-1]
        return dict(out=_swap(h), cell=_swap(c))

    def _transform_fused(self, inputs, x):
        """Without peepholes and with tanh: one sigmoid over the whole gate
        block per step, contiguous, with ``tanh(z) = 2 sigmoid(2 z) - 1``
        for the cell's block (its columns of ``xh``, ``hh`` and ``b`` are
        doubled once, outside the loop)."""
        n = self.size
        scale = np.ones(4 * n, dtype=floatX())
        scale[2 * n:3 * n] = 2
        hh = self.find('hh') * scale

        def step(z_t, h_tm1, c_tm1):
            s = TT.sigmoid(z_t + TT.dot(h_tm1, hh))
            c = s[:, n:2 * n] * c_tm1 + s[:, :n] * (2 * s[:, 2 * n:3 * n] - 1)
            a, a_saved = self._loop_act(c)
            # the gates are loop outputs too, read by the backward pass
            return [s[:, 3 * n:] * a, c, s, a_saved]

        batch = x.shape[1]
        z = (dot_last(x, self.find('xh')) + self.find('b')) * scale
        out, cell = self._scan(
            step, [z], [self._initial_state('h', inputs, batch),
                        self._initial_state('c', inputs, batch)],
            inputs, saved=2)
        return dict(out=out, cell=cell)

    def to_spec(self):
        return dict(super().to_spec(), peepholes=self.peepholes)


# The other forms live in recurrent_extra (kept apart for module size); they
# are imported here so that importing this module registers every form.
from .recurrent_extra import (  # noqa: E402,F401
    GRU, MUT1, SCRN, Bidirectional, Clockwork)
