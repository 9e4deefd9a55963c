"""More recurrent layers: GRU, clockwork, MUT1, SCRN and bidirectional.

These share the base class, shapes and options of
:mod:`theanets.layers.recurrent` (which imports this module, so importing
either registers every form).
"""

import numpy as np

from ..backend import TT, floatX
from ..util import ConfigurationError
from .base import INIT_OPTIONS, Layer, dot_last
from .recurrent import Recurrent, _Rates, _swap

__all__ = ['GRU', 'Clockwork', 'MUT1', 'SCRN', 'Bidirectional']


class GRU(Recurrent):
    """Gated recurrent unit (Cho et al., 2014; Chung et al., 2014)::

        r_t = s(x_t . xr + h_{t-1} . hr + br)
        z_t = s(x_t . xz + h_{t-1} . hz + bz)
        pre_t = x_t . xh + (r_t * h_{t-1}) . hh + bh
        h_t = (1 - z_t) * h_{t-1} + z_t * activation(pre_t)

    Parameters ``xh``, ``xr``, ``xz``, ``hh``, ``hr``, ``hz``, ``bh``,
    ``br``, ``bz``. Outputs ``pre``, ``hid``, ``rate`` (``z``) and ``out``.
    """

    def setup_params(self):
        for gate in 'hrz':
            self.add_weights('x' + gate, self.input_size, self.size)
        for gate in 'hrz':
            self.add_recurrent('h' + gate)
        for gate in 'hrz':
            self.add_bias('b' + gate, self.size)

    def transform(self, inputs):
        x = self._sequence(inputs)
        hh, hr, hz = (self.find('h' + g) for g in 'hrz')

        def step(xh_t, xr_t, xz_t, h_tm1):
            r = TT.sigmoid(xr_t + TT.dot(h_tm1, hr))
            z = TT.sigmoid(xz_t + TT.dot(h_tm1, hz))
            pre = xh_t + TT.dot(r * h_tm1, hh)
            hid = self._g(pre)
            return [pre, hid, z, (1 - z) * h_tm1 + z * hid]

        seqs = [dot_last(x, self.find('x' + g)) + self.find('b' + g)
                for g in 'hrz']
        pre, hid, rate, out = self._scan(
            step, seqs,
            [None, None, None, self._initial_state('h', inputs, x.shape[1])],
            inputs)
        return dict(pre=pre, hid=hid, rate=rate, out=out)


class Clockwork(Recurrent):
    """A clockwork RNN (Koutnik et al., 2014): modules tick at own periods.

    The units are split into ``len(periods)`` equal modules, sorted from the
    slowest period to the fastest. Module ``i`` updates only at steps ``t``
    (counted from the first step processed) where ``t % T_i == 0`` and
    keeps its state otherwise; it reads the previous state of its own and
    of every slower module. The recurrent matrix ``hh`` is stored in full
    and masked.

    Parameters ``xh``, ``hh``, ``b``. Outputs ``pre`` and ``out``.

    Parameters
    ----------
    periods : sequence of int
        One period per module; ``size`` must be a multiple of their number.
    """

    def __init__(self, periods=None, **kwargs):
        super().__init__(**kwargs)
        if not periods or any(int(p) < 1 for p in periods):
            raise ConfigurationError(
                f'clockwork layer {self.name!r} needs periods=[...] of '
                f'positive ints, got {periods!r}')
        if self.size % len(periods):
            raise ConfigurationError(
                f'clockwork layer {self.name!r}: size {self.size} is not a '
                f'multiple of the {len(periods)} periods {list(periods)}')
        self.periods = sorted((int(p) for p in periods), reverse=True)

    def setup_params(self):
        self.add_weights('xh', self.input_size, self.size)
        self.add_recurrent('hh')
        self.add_bias('b', self.size)

    def _mask_and_period(self):
        n, m = self.size, self.size // len(self.periods)
        mask = np.zeros((n, n))
        period = np.zeros(n, dtype='int64')
        for i, p in enumerate(self.periods):
            mask[i * m:(i + 1) * m, i * m:] = 1
            period[i * m:(i + 1) * m] = p
        return (TT.constant(mask.astype(floatX())), TT.constant(period))

    def transform(self, inputs):
        x = self._sequence(inputs)
        mask, period = self._mask_and_period()
        hh = self.find('hh') * mask
        steps = TT.arange(x.shape[0])
        if self.direction == 'backward':
            steps = steps[::-1]  # so that the count starts where the loop does

        def step(t, x_t, p_tm1, h_tm1):
            tick = TT.eq(t % period, 0)[None, :]
            pre = x_t + TT.dot(h_tm1, hh)
            return [TT.switch(tick, pre, p_tm1),
                    TT.switch(tick, self._g(pre), h_tm1)]

        h_0 = self._initial_state('h', inputs, x.shape[1])
        pre, out = self._scan(
            step, [steps, dot_last(x, self.find('xh')) + self.find('b')],
            [TT.zeros_like(h_0), h_0], inputs)
        return dict(pre=pre, out=out)

    def to_spec(self):
        return dict(super().to_spec(), periods=list(self.periods))


class MUT1(Recurrent):
    """The MUT1 layer found by architecture search (Jozefowicz et al., 2015)::

        z_t = s(x_t . xz + bz)
        r_t = s(x_t . xr + h_{t-1} . hr + br)
        pre_t = tanh(x_t . xh + bh) + (r_t * h_{t-1}) . hh
        h_t = (1 - z_t) * h_{t-1} + z_t * activation(pre_t)

    Parameters ``xh``, ``xr``, ``xz``, ``hh``, ``hr``, ``bh``, ``br``,
    ``bz``. Outputs ``pre``, ``hid``, ``rate`` (``z``) and ``out``.
    """

    def setup_params(self):
        for gate in 'hrz':
            self.add_weights('x' + gate, self.input_size, self.size)
        self.add_recurrent('hh')
        self.add_recurrent('hr')
        for gate in 'hrz':
            self.add_bias('b' + gate, self.size)

    def transform(self, inputs):
        x = self._sequence(inputs)
        hh, hr = self.find('hh'), self.find('hr')

        def step(xh_t, xr_t, z_t, h_tm1):
            r = TT.sigmoid(xr_t + TT.dot(h_tm1, hr))
            pre = xh_t + TT.dot(r * h_tm1, hh)
            hid = self._g(pre)
            return [pre, hid, (1 - z_t) * h_tm1 + z_t * hid]

        def proj(g):
            return dot_last(x, self.find('x' + g)) + self.find('b' + g)

        z = TT.sigmoid(proj('z'))
        pre, hid, out = self._scan(
            step, [TT.tanh(proj('h')), proj('r'), z],
            [None, None, self._initial_state('h', inputs, x.shape[1])],
            inputs)
        return dict(pre=pre, hid=hid, rate=_swap(z), out=out)


class SCRN(_Rates, Recurrent):
    """Structurally constrained recurrent network (Mikolov et al., 2015).

    A slow context state ``s`` beside a fast hidden state ``h``::

        s_t = (1 - r) * s_{t-1} + r * (x_t . xs)
        h_t = s(x_t . xh + h_{t-1} . hh + s_t . sh)
        out_t = activation(h_t . ho + s_t . so + b)

    Outputs ``pre``, ``hid``, ``state``, ``rate`` and ``out``.

    Parameters
    ----------
    rate : {'vector', 'uniform', 'log'}, default='vector'
        ``'vector'``: learned rates ``sigmoid(r)``; otherwise fixed random
        rates as in :class:`RRNN`.
    rates : list of float, optional
        The fixed rates (saved with the model).
    s_0 : None, 'learn' or str
        Initial context state, like ``h_0``.
    """

    STATES = ('h', 's')
    RATES = ('vector', 'uniform', 'log')

    def setup_params(self):
        n = self.size
        self.add_weights('xs', self.input_size, n)
        self.add_weights('xh', self.input_size, n)
        self.add_weights('sh', n, n)
        self.add_recurrent('hh')
        self.add_weights('ho', n, n)
        self.add_weights('so', n, n)
        self.add_bias('b', n)
        self._setup_rates()

    def transform(self, inputs):
        x = self._sequence(inputs)
        hh, sh = self.find('hh'), self.find('sh')
        rate = self._rate_vector()

        def step(xh_t, xs_t, h_tm1, s_tm1):
            s = (1 - rate) * s_tm1 + rate * xs_t
            return [TT.sigmoid(xh_t + TT.dot(h_tm1, hh) + TT.dot(s, sh)), s]

        batch = x.shape[1]
        hid, state = self._scan(
            step, [dot_last(x, self.find('xh')), dot_last(x, self.find('xs'))],
            [self._initial_state('h', inputs, batch),
             self._initial_state('s', inputs, batch)], inputs)
        pre = (dot_last(hid, self.find('ho')) +
               dot_last(state, self.find('so')) + self.find('b'))
        return dict(pre=pre, hid=hid, state=state,
                    rate=TT.ones_like(pre) * rate, out=self._act(pre))


class Bidirectional(Layer):
    """Two recurrent layers over the same input, one in each direction.

    The workers' parameters are named ``fw.<name>`` and ``bw.<name>``:
    ``net.find('hid1', 'fw.xh')``. Outputs: ``out``; with ``'concat'``
    also ``pre`` and ``cell`` when the workers have them; and every worker
    output as ``fw_<name>`` / ``bw_<name>`` (``'hid1:bw_out'``).

    Parameters
    ----------
    worker : str, default='rnn'
        The recurrent form of both workers (``'lstm'``, ``'gru'``, ...).
    combine : {'concat', 'sum'}, default='concat'
        Join the workers' outputs along the last axis (each worker gets
        ``size // 2`` units) or add them (each gets ``size``).
    worker_rates : pair of lists, optional
        The fixed rates of the forward and backward workers (for
        ``rate='uniform'`` or ``'log'``; saved with the model).
    **kwargs
        Everything else (``activation``, ``rate=``, ``h_0=``, ``std=``...)
        goes to both workers.
    """

    def __init__(self, worker='rnn', combine='concat', size=None, inputs=None,
                 name=None, activation='tanh', rng=None, worker_rates=None,
                 **kwargs):
        cls = Layer.lookup(worker)
        if not (isinstance(cls, type) and issubclass(cls, Recurrent)):
            known = sorted(k for k, c in Layer._registry.items()
                           if isinstance(c, type) and issubclass(c, Recurrent))
            raise ConfigurationError(
                f'bidirectional layer {name!r}: worker {worker!r} is not a '
                f'recurrent form; recurrent forms: {", ".join(known)}')
        if combine not in ('concat', 'sum'):
            raise ConfigurationError(
                f"bidirectional layer {name!r}: combine must be 'concat' or "
                f"'sum', got {combine!r}")
        if 'direction' in kwargs:
            raise ConfigurationError(
                f'bidirectional layer {name!r} runs both directions; remove '
                f'direction={kwargs["direction"]!r}')
        if size is None or (combine == 'concat' and size % 2):
            raise ConfigurationError(
                f"bidirectional layer {name!r} needs a size (even with "
                f"combine='concat'), got {size!r}")
        init = {k: kwargs.pop(k) for k in list(kwargs)
                if k.split('_')[0] in INIT_OPTIONS}
        self.worker, self.combine = str(worker).lower(), combine
        self.worker_options = dict(kwargs)
        part = size // 2 if combine == 'concat' else size
        rates = worker_rates or (kwargs.pop('rates', None),) * 2
        self.forward, self.backward = (
            cls(size=part, direction=d, activation=activation, **init,
                **dict(kwargs, **({'rates': r} if r is not None else {})))
            for d, r in zip(('forward', 'backward'), rates))
        super().__init__(size=size, inputs=inputs, name=name,
                         activation=activation, rng=rng, **init)

    def bind(self, shapes, rng=None):
        self._shapes_seen = shapes
        super().bind(shapes, rng)
        self._params = self.forward.params + self.backward.params
        return self

    def setup(self):
        for worker, tag in ((self.forward, 'fw'), (self.backward, 'bw')):
            worker.name = f'{self.name}.{tag}'
            worker.inputs = dict(self.inputs)
            worker.bind(self._shapes_seen, rng=self._rng)
            self.inputs.update(worker.inputs)
            self.input_shapes.update(worker.input_shapes)

    @property
    def output_shape(self):
        return tuple(self.forward.input_shape[:-1]) + (self.size,)

    def transform(self, inputs):
        fw = self.forward.transform(inputs)
        bw = self.backward.transform(inputs)
        if self.combine == 'concat':
            out = {k: TT.concatenate([fw[k], bw[k]], axis=-1)
                   for k in ('out', 'pre', 'cell') if k in fw and k in bw}
        else:
            out = {'out': fw['out'] + bw['out']}
        out.update((f'fw_{k}', v) for k, v in fw.items())
        out.update((f'bw_{k}', v) for k, v in bw.items())
        return out

    def to_spec(self):
        spec = super().to_spec()
        spec.update(self.worker_options, worker=self.worker,
                    combine=self.combine)
        if getattr(self.forward, 'rates', None) is not None:
            spec['worker_rates'] = [self.forward.rates, self.backward.rates]
        return spec
