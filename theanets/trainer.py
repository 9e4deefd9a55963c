"""Trainers: every optimization algorithm, plus layerwise, pretrain, sample.

:func:`itertrain` is what ``Network.train`` and ``Network.itertrain`` call.
It splits the keywords between the regularizers, the optimizer and the
training loop, validates the data once, reuses the compiled optimizer of an
earlier call with the same settings, records the history and writes
checkpoints.
"""

import inspect
import os
import time

import numpy as np

from . import layers as L, optimize, regularizers, saving
from .util import ConfigurationError, Registrar, closest, log

__all__ = ['itertrain', 'Trainer', 'DownhillTrainer', 'SupervisedPretrainer',
           'UnsupervisedPretrainer', 'SampleTrainer']

#: Old spellings that downhill accepted -> today's keyword.
ALIASES = {'max_gradient_clip': 'max_gradient_elem',
           'gradient_clip': 'max_gradient_elem',
           'iteration_size': 'train_batches'}

#: Keywords handled here rather than by the optimizer or regularizers.
TRAINER_OPTIONS = ('save_every', 'save_progress', 'resume', 'monitors',
                   'monitor_gradients', 'subalgo', 'algorithm')


def itertrain(net, train, valid=None, algo='rmsprop', subalgo='rmsprop',
              **kwargs):
    """Train ``net``, yielding ``(train_monitors, valid_monitors)`` per epoch.

    Parameters
    ----------
    net : Network
    train : tuple of ndarray, callable or iterable
        ``(x,)``, ``(x, y)`` or with trailing weights; or a callable that
        returns one such batch per call; or an iterable of batches.
    valid : same as train, optional
        Validation data; defaults to ``train``.
    algo : str, default='rmsprop'
        An optimization algorithm (``sgd``, ``nag``, ``rmsprop``, ``adam``,
        ``adadelta``, ``adagrad``, ``esgd``, ``rprop``) or a trainer
        (``layerwise``, ``pretrain``, ``sample``). ``algorithm=`` is the
        same.
    subalgo : str, default='rmsprop'
        The algorithm the ``layerwise`` and ``pretrain`` trainers use.
    **kwargs
        Hyperparameters of the algorithm (``learning_rate``, ``momentum``,
        ...), of the loop (``batch_size``, ``patience``, ``validate_every``,
        ``min_improvement``, ``max_updates``, ``train_batches``,
        ``valid_batches``, ``callbacks``, ``progress``), regularizers
        (``weight_l2``, ``hidden_dropout``, ...), ``monitors``,
        ``monitor_gradients``, and checkpoints: ``save_progress`` (a path,
        where ``{}`` is replaced by the Unix time, or a binary file),
        ``save_every`` (int: epochs; float: minutes), ``resume`` (True to
        continue from the ``save_progress`` file when it exists, or a path).
    """
    algo = kwargs.pop('algorithm', algo)
    if not net.losses:
        raise ConfigurationError('the model has no loss; call add_loss first')
    trainer = Trainer.build(algo, net, subalgo)
    return trainer.itertrain(train, valid, **kwargs)


class Trainer(Registrar):
    """Base class of trainers; each registers under its ``aliases``."""

    _registry = {}
    _kind = 'trainer'

    def __init__(self, algo, network, subalgo='rmsprop'):
        self.algo = algo
        self.network = network
        self.subalgo = subalgo

    @classmethod
    def build(cls, algo, network, subalgo='rmsprop'):
        """The trainer for ``algo``: a registered trainer or an algorithm."""
        trainers = {name: klass for klass in set(cls._registry.values())
                    for name in klass.__dict__.get('aliases', ())}
        if isinstance(algo, str) and algo.lower() in trainers:
            return trainers[algo.lower()](algo, network, subalgo)
        if not isinstance(algo, optimize.UpdateRule) and \
                not optimize.UpdateRule.is_registered(algo):
            known = sorted(set(optimize.UpdateRule._registry) |
                           {'layerwise', 'pretrain', 'sample'})
            raise ConfigurationError(
                f'unknown algorithm {algo!r}{closest(algo, known)}; known '
                f'algorithms and trainers: {", ".join(known)}')
        return DownhillTrainer(algo, network, subalgo)

    def itertrain(self, train, valid=None, **kwargs):
        raise NotImplementedError


def _checked(net, data):
    """Validate data once (arrays) or per batch (callables, iterables)."""
    if data is None or isinstance(data, optimize.Dataset):
        return data
    if isinstance(data, np.ndarray):
        return net.check_data((data,))
    if isinstance(data, list) and data and all(
            isinstance(b, (tuple, list)) for b in data):
        return _CheckedBatches(net, data)  # a list of batches
    if isinstance(data, (tuple, list)):
        return net.check_data(data)
    if callable(data):
        return lambda: net.check_data(data())
    if hasattr(data, '__iter__'):
        return _CheckedBatches(net, data)
    raise ValueError(f'training data must be a tuple of arrays, a callable or '
                     f'an iterable of batches; got {type(data).__name__}')


class _CheckedBatches:
    """An iterable of batches, each validated by the network."""

    def __init__(self, net, batches):
        self.net, self.batches = net, batches

    def __iter__(self):
        return (self.net.check_data(b) for b in self.batches)


def _defaults(algo):
    """The rule's default hyperparameters (to reset a reused optimizer)."""
    cls = optimize.UpdateRule.lookup(algo)
    return {k: p.default for k, p in
            inspect.signature(cls.__init__).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY}


class DownhillTrainer(Trainer):
    """Train with one optimization algorithm from :mod:`theanets.optimize`."""

    def _split(self, kwargs):
        net = self.network
        kwargs = {ALIASES.get(k, k): v for k, v in kwargs.items()}
        regs, rest = regularizers.from_kwargs(net.layers, **kwargs)
        if 'rng' in kwargs:  # seeds the noise and the shuffling alike
            rest['rng'] = kwargs['rng']
        own = {k: rest.pop(k) for k in TRAINER_OPTIONS if k in rest}
        build, loop, unknown = optimize.split_options(self.algo, rest)
        if unknown:
            known = (list(TRAINER_OPTIONS) + list(optimize.ITERATE_OPTIONS) +
                     list(optimize.BUILD_OPTIONS) + sorted(
                         regularizers.Regularizer._registry))
            if not isinstance(self.algo, optimize.UpdateRule):
                known += list(_defaults(self.algo))
            key = sorted(unknown)[0]
            raise ConfigurationError(
                f'unknown training option {key!r}{closest(key, known)} for '
                f'algorithm {self.algo!r}; known options: '
                f'{", ".join(sorted(set(known)))}')
        return regs, own, build, loop

    def _optimizer(self, regs, own, build):
        """A compiled optimizer, reused when the settings repeat."""
        net = self.network
        rate = build.pop('learning_rate', None)
        monitors = own.get('monitors') or {}
        key = (str(self.algo).lower(), tuple(sorted(build.items())),
               tuple((type(r).__name__, repr(getattr(r, 'pattern', None)),
                      getattr(r, 'weight', None)) for r in regs),
               repr(sorted(monitors.items()) if isinstance(monitors, dict)
                    else monitors),
               bool(own.get('monitor_gradients')))
        cache = net._optimizers
        if key not in cache:
            outputs, updates = net.build_graph(regs)
            clean, _ = net.build_graph()
            evaluation = None
            if any(outputs[k] is not clean[k] for k in clean):
                # validate without the training graph's noise and dropout
                evaluation = (net._objective(regs, clean),
                              net.monitor_pairs(clean, monitors))
            cache[key] = optimize.build(
                self.algo, net._objective(regs), net.params, net.variables,
                updates=updates, monitors=net.monitor_pairs(outputs, monitors),
                monitor_gradients=bool(own.get('monitor_gradients')),
                evaluation=evaluation, **build)
        opt = cache[key]
        if rate is None and not isinstance(self.algo, optimize.UpdateRule):
            rate = _defaults(self.algo)['learning_rate']
        if rate is not None:
            opt.learning_rate = rate
        return opt

    def itertrain(self, train, valid=None, **kwargs):
        net = self.network
        regs, own, build, loop = self._split(kwargs)
        train = _checked(net, train)
        valid = _checked(net, valid)
        opt = self._optimizer(regs, own, build)
        checkpoint = _Checkpoint(own.get('save_progress'),
                                 own.get('save_every', 0))
        resume = own.get('resume')
        if resume:
            path = own.get('save_progress') if resume is True else resume
            if path and not hasattr(path, 'write') and os.path.exists(path):
                _resume(net, opt, path)
        loop.setdefault('rng', net._rng_seed if net._rng_seed is not None
                        else 13)
        for train_mon, valid_mon in opt.iterate(train, valid, **loop):
            net.history.append((train_mon, valid_mon))
            checkpoint.maybe_save(net, opt)
            yield train_mon, valid_mon
        checkpoint.maybe_save(net, opt, force=checkpoint.active)


class _Checkpoint:
    """Writes the model and optimizer state every N epochs or minutes."""

    def __init__(self, target, every):
        self.target, self.every = target, every
        self.active = bool(target) and bool(every)
        self.epochs, self.started = 0, time.time()

    def maybe_save(self, net, opt, force=False):
        if not self.active:
            return
        self.epochs += 1
        if isinstance(self.every, float):
            due = time.time() - self.started >= 60 * self.every
        else:
            due = self.epochs % int(self.every) == 0
        if not (due or force):
            return
        target = self.target
        if isinstance(target, str) and '{}' in target:
            target = target.format(int(time.time()))
        state = opt.get_state()
        arrays = {k: v for k, v in state.items() if isinstance(v, np.ndarray)}
        scalars = {k: v for k, v in state.items() if k not in arrays}
        if hasattr(target, 'seek'):
            target.seek(0)
            target.truncate()
        saving.save(net, target, extra={'json': {'optimizer': scalars},
                                        'arrays': arrays})
        log('saved checkpoint after epoch {}', opt.epoch)
        self.started = time.time()


def _resume(net, opt, path):
    """Load parameters, history and optimizer state from a checkpoint."""
    saved, extra = saving.load_checkpoint(path)
    mine = {p.name: p for p in net.params}
    theirs = {p.name: p.get_value() for p in saved.params}
    if {k: v.get_value(borrow=True).shape for k, v in mine.items()} != \
            {k: v.shape for k, v in theirs.items()}:
        raise ConfigurationError(
            f'cannot resume from {path!r}: it holds a model with other '
            'parameters than this one')
    for name, value in theirs.items():
        mine[name].set_value(value)
    net.history = list(saved.history)
    state = dict(extra['json'].get('optimizer', {}))
    state.update(extra['arrays'])
    opt.set_state(state)
    log('resumed from {} at epoch {}', path, opt.epoch)


class SupervisedPretrainer(Trainer):
    """Greedy layer-by-layer supervised training (``algo='layerwise'``).

    Trains the first hidden layer under a temporary output layer, then the
    first two, and so on, each stage with ``subalgo``; the last stage trains
    the whole model. Yields the monitors of every stage's epochs.
    """

    aliases = ('layerwise',)

    def itertrain(self, train, valid=None, **kwargs):
        net = self.network
        original, losses = list(net.layers), list(net.losses)
        names = [loss.output_name for loss in losses]
        out = original[-1]
        try:
            for i in range(1, len(original) - 1):
                head = original[i]
                temp = L.Feedforward(size=out.size, name='lwout',
                                     activation=out.activation,
                                     inputs={head.output_name: head.output_shape},
                                     rng=net._child_rng())
                temp.bind({})
                net.layers = original[:i + 1] + [temp]
                for loss in losses:
                    loss.output_name = temp.output_name
                net._invalidate()
                log('layerwise: training {}', ' -> '.join(
                    l.name for l in net.layers))
                yield from DownhillTrainer(self.subalgo, net).itertrain(
                    train, valid, **kwargs)
        finally:
            net.layers = original
            for loss, name in zip(losses, names):
                loss.output_name = name
            net._invalidate()
        log('layerwise: training {}', ' -> '.join(l.name for l in net.layers))
        yield from DownhillTrainer(self.subalgo, net).itertrain(
            train, valid, **kwargs)


class UnsupervisedPretrainer(Trainer):
    """Pretrain the hidden layers as an autoencoder (``algo='pretrain'``).

    Builds an autoencoder from the model's input and hidden layers (sharing
    their parameters) plus tied decoding layers, trains it layer by layer
    with ``subalgo`` on the inputs alone, and leaves the hidden layers'
    trained weights in the model. Fine-tuning is the next ``train`` call.
    """

    aliases = ('pretrain',)

    def itertrain(self, train, valid=None, **kwargs):
        from .feedforward import Autoencoder
        net = self.network
        hidden = net.layers[1:-1]
        if not hidden:
            raise ConfigurationError('pretraining needs hidden layers')
        ae = Autoencoder(weighted=False, rng=net._child_rng())
        for layer in net.layers[:-1]:
            ae.add_layer(layer)
        for i, partner in enumerate(reversed(hidden)):
            last = i == len(hidden) - 1
            ae.add_layer(dict(form='tied', partner=partner.name,
                              activation='linear' if last else
                              hidden[-2 - i].activation),
                         is_output=last)
        ae.set_loss('mse')
        first = lambda data: data if data is None or callable(data) or \
            not isinstance(data, (tuple, list)) else data[:1]
        yield from SupervisedPretrainer(self.subalgo, ae, self.subalgo) \
            .itertrain(first(train), first(valid), **kwargs)


class SampleTrainer(Trainer):
    """Set weights from data samples (``algo='sample'``); no optimization.

    Each feedforward layer's weight columns become randomly chosen inputs
    to that layer, scaled to unit length, layer by layer from the bottom.
    Yields the monitors once, evaluated after the weights are set.
    """

    aliases = ('sample',)

    def itertrain(self, train, valid=None, **kwargs):
        net = self.network
        data = _checked(net, train)
        if not isinstance(data, tuple):
            raise ValueError('the sample trainer needs arrays, not a callable '
                             'or an iterable of batches')
        rng = np.random.default_rng(kwargs.pop('rng', 13))
        for layer in net.layers[1:]:
            if not isinstance(layer, L.Feedforward) or len(layer.inputs) != 1:
                continue
            source = next(iter(layer.inputs))
            values = net.feed_forward(data[0])[source]
            values = values.reshape(-1, values.shape[-1])
            w = layer.find('w')
            nin, nout = w.get_value(borrow=True).shape
            rows = rng.choice(len(values), size=nout, replace=len(values) < nout)
            cols = values[rows].T
            norms = np.sqrt((cols * cols).sum(axis=0))
            w.set_value((cols / np.maximum(norms, 1e-8)).astype(w.dtype))
            log('sample: set {} from {} samples of {}', w.name, nout, source)
        evaluator = DownhillTrainer('sgd', net)  # compiles the monitors
        regs, own, build, _ = evaluator._split(kwargs)
        opt = evaluator._optimizer(regs, own, build)
        train_mon = opt.evaluate(data)
        valid_mon = train_mon if valid is None else opt.evaluate(
            _checked(net, valid))
        net.history.append((train_mon, valid_mon))
        yield train_mon, valid_mon
