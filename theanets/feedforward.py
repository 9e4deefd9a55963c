"""Feedforward models: Autoencoder, Regressor and Classifier."""

import numpy as np

from . import backend
from .backend import TT
from .graph import Network
from .util import ConfigurationError
from .validation import check_array, check_labels, check_lengths

__all__ = ['Autoencoder', 'Regressor', 'Classifier']


class Autoencoder(Network):
    """A model trained to reproduce its input: ``train((x,))``.

    The loss compares the output with the input itself, so training data is
    ``(inputs,)`` (plus weights of the inputs' shape when ``weighted``).
    Decoding layers may share the encoder's weights with ``'tied'`` specs:

    >>> net = Autoencoder([784, 256, 64, ('tied', 256), ('tied', 784)])  # doctest: +SKIP
    """

    def _target_for(self, output_name):
        return None

    def set_loss(self, *args, **kwargs):
        out, inp = self.layers[-1].output_shape, self.layers[0].output_shape
        if out != inp:
            raise ConfigurationError(
                f'an autoencoder reconstructs its input, so its output shape '
                f'must be the input shape {inp}; got {out} (layers '
                f'{[l.name for l in self.layers]})')
        return super().set_loss(*args, **kwargs)

    def _check_targets(self, y, name='targets'):
        return self._check_inputs(y, name)

    def score(self, x, w=None):
        """R^2 of the reconstruction of ``x`` (1 is perfect)."""
        return super().score(x, x, w)

    def _middle(self, layer):
        if layer is None:
            layer = len(self.layers) // 2
        return self.find_layer(layer)

    def encode(self, x, layer=None):
        """The code of ``x``: the output of ``layer`` (default: the middle).

        Returns
        -------
        ndarray, shape ``(n,) + layer output shape``
        """
        layer = self._middle(layer)
        return self._predict_raw(x, layer.output_name)

    def decode(self, z, layer=None):
        """Reconstruct inputs from codes ``z`` given at ``layer``'s output."""
        layer = self._middle(layer)
        z = check_array(z, 'codes', layer.output_shape)
        outputs, _ = self.build_graph()
        code = TT.tensor(dtype=backend.floatX(), name='codes',
                         shape=(None,) * z.ndim)
        out = backend.clone_replace(outputs[self.output_name],
                                    {outputs[layer.output_name]: code})
        return self._run(('decode', layer.name), [out], z, inputs=[code])[0]


class Regressor(Network):
    """A model mapping inputs to real-valued targets: ``train((x, y))``.

    The output layer is linear by default and the loss ``'mse'``;
    :meth:`score` is R^2.
    """


class Classifier(Network):
    """A model mapping inputs to one of ``k`` classes: ``train((x, labels))``.

    Labels are integers in ``[0, k)``, shape ``(n,)``. The output layer is
    a softmax by default and the loss cross-entropy (``'xe'``).

    >>> net = Classifier(layers=[784, 100, 10])  # doctest: +SKIP
    >>> net.predict(images)         # (n,) int labels  # doctest: +SKIP
    >>> net.predict_proba(images)   # (n, 10), rows sum to 1  # doctest: +SKIP
    """

    DEFAULT_OUTPUT_ACTIVATION = 'softmax'
    DEFAULT_LOSS = 'xe'

    def _target_for(self, output_name):
        ndim = len(self._output_shape(output_name))
        key = ('int', ndim)
        if key not in self._targets:
            self._targets[key] = TT.tensor(dtype='int32', shape=(None,) * ndim,
                                           name='labels')
        return self._targets[key]

    def _check_targets(self, y, name='labels'):
        out = self.layers[-1]
        return check_labels(y, name, out.output_shape[:-1], out.size)

    def _extra_monitors(self, outputs):
        return [('acc', self.losses[0].accuracy(outputs))]

    def predict_proba(self, x, **kwargs):
        """Class probabilities: ``(n, k)``, each row sums to 1."""
        return self._predict_raw(x, self.output_name, **kwargs)

    def predict_logit(self, x):
        """The output layer's values before its softmax: ``(n, k)``."""
        return self._predict_raw(x, f'{self.layers[-1].name}:pre')

    def predict(self, x, **kwargs):
        """The most probable class of each sample: int ``(n,)``."""
        return self.predict_proba(x, **kwargs).argmax(axis=-1).astype(np.int32)

    def score(self, x, y, w=None):
        """Accuracy of :meth:`predict` on ``(x, y)``, weighted by ``w``."""
        x = self._check_inputs(x)
        y = self._check_targets(y)
        check_lengths(inputs=x, labels=y)
        w = self._check_weights(w, y, x)
        hits = self.predict(x) == y
        if w is None:
            return float(hits.mean())
        return float((w * hits).sum() / max(1e-12, w.sum()))
