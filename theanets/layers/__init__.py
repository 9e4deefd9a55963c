"""Layers: the building blocks of every model, registered by ``form``.

A model's ``layers=[...]`` list holds one spec per layer; see
:func:`parse_spec` for the spec forms and :class:`Layer` for the options.
"""

from .base import Input, Layer, output_name, parse_spec
from .feedforward import (Classifier, Concatenate, Feedforward, Flatten,
                          Product, Reshape, Tied)

__all__ = ['Layer', 'Input', 'Feedforward', 'Classifier', 'Tied', 'Flatten',
           'Concatenate', 'Product', 'Reshape', 'parse_spec', 'output_name']
