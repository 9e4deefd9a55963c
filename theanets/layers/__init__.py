"""Layers: the building blocks of every model, registered by ``form``.

A model's ``layers=[...]`` list holds one spec per layer; see
:func:`parse_spec` for the spec forms and :class:`Layer` for the options.
"""

from .base import Input, Layer, output_name, parse_spec
from .convolution import Conv1, Conv2, Convolution, Pool1, Pool2, Pooling
from .feedforward import (Classifier, Concatenate, Feedforward, Flatten,
                          Product, Reshape, Tied)
from .recurrent import (GRU, LSTM, MRNN, MUT1, RNN, RRNN, SCRN, Bidirectional,
                        Clockwork, Recurrent)

__all__ = ['Layer', 'Input', 'Feedforward', 'Classifier', 'Tied', 'Flatten',
           'Concatenate', 'Product', 'Reshape', 'parse_spec', 'output_name',
           'Recurrent', 'RNN', 'RRNN', 'MRNN', 'LSTM', 'GRU', 'Clockwork',
           'MUT1', 'SCRN', 'Bidirectional', 'Convolution', 'Conv1', 'Conv2',
           'Pooling', 'Pool1', 'Pool2']
