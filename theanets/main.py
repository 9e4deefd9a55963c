"""``Experiment``: the original theanets' wrapper of a model and its options.

>>> exp = Experiment(theanets.Classifier, layers=(784, 100, 10),
...                  train_batches=100)                  # doctest: +SKIP
>>> exp.train(train, valid)                              # doctest: +SKIP
>>> exp.network.predict(x)                               # doctest: +SKIP
"""

import inspect

from .graph import Network

__all__ = ['Experiment']


class Experiment:
    """A model class, its constructor arguments and default train options.

    Keywords that the model's constructor accepts build the model
    (:attr:`network`); the others become defaults for every :meth:`train`
    and :meth:`itertrain` call (a keyword given to the call wins).

    Parameters
    ----------
    network_class : subclass of Network
        ``theanets.Classifier``, ``theanets.Regressor``, ...
    *args, **kwargs
        For the constructor (``layers=...``, ``loss=...``) and for training.
    """

    def __init__(self, network_class, *args, **kwargs):
        if not (isinstance(network_class, type) and
                issubclass(network_class, Network)):
            raise TypeError(f'Experiment needs a model class such as '
                            f'theanets.Classifier, got {network_class!r}')
        accepted = set(inspect.signature(network_class.__init__).parameters)
        build = {k: v for k, v in kwargs.items() if k in accepted}
        self.train_options = {k: v for k, v in kwargs.items()
                              if k not in accepted}
        self.network = network_class(*args, **build)

    def itertrain(self, *args, **kwargs):
        """``network.itertrain`` with this experiment's default options."""
        return self.network.itertrain(*args, **{**self.train_options, **kwargs})

    def train(self, *args, **kwargs):
        """``network.train`` with this experiment's default options."""
        return self.network.train(*args, **{**self.train_options, **kwargs})

    def save(self, path):
        """Save the model (see :meth:`Network.save`)."""
        self.network.save(path)

    def load(self, path):
        """Replace the model with one loaded from ``path``; returns it."""
        self.network = Network.load(path)
        return self.network
