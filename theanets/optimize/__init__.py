"""Optimizers: update rules, mini-batches and the training loop.

This package plays the role the ``downhill`` library played for the original
theanets, with the same algorithm names and hyperparameters. It knows nothing
about layers or networks: it minimizes a symbolic scalar loss over a list of
shared parameters, fed by batches for a list of symbolic inputs.

>>> opt = build('rmsprop', loss, params, inputs,
...             learning_rate=1e-3)                      # doctest: +SKIP
>>> for train_mon, valid_mon in opt.iterate((x, y), batch_size=16,
...                                         patience=3):  # doctest: +SKIP
...     print(train_mon['loss'], valid_mon['loss'])
"""

from .adaptive import ADADELTA, ADAGRAD, ESGD, Adam, RMSProp, RProp
from .base import Optimizer
from .dataset import Dataset
from .factory import BUILD_OPTIONS, ITERATE_OPTIONS, build, split_options
from .rules import (NAG, SGD, UpdateRule, apply_momentum, clip_gradients,
                    scalar_state)
from .stopping import EarlyStopping, NonFiniteLossError

__all__ = [
    'build', 'split_options', 'Optimizer', 'Dataset', 'EarlyStopping',
    'NonFiniteLossError', 'UpdateRule', 'apply_momentum', 'clip_gradients',
    'scalar_state',
    'BUILD_OPTIONS', 'ITERATE_OPTIONS',
    'SGD', 'NAG', 'RMSProp', 'ADADELTA', 'ADAGRAD', 'Adam', 'ESGD', 'RProp',
]
