"""Small shared helpers: the registry mixin, errors and logging."""

import difflib
import logging

__all__ = ['ConfigurationError', 'Registrar', 'closest', 'log']

logger = logging.getLogger('theanets')


class ConfigurationError(ValueError):
    """A model, layer or training option is wrong.

    Raised for a bad layer spec, an unknown activation, loss, regularizer or
    algorithm name, and a misspelled keyword. The message names the value
    that was found and what was expected.
    """


def closest(name, known):
    """A ``" (did you mean 'x'?)"`` hint for ``name`` among ``known``, or ''."""
    match = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f' (did you mean {match[0]!r}?)' if match else ''


def _plural(word):
    return word + ('es' if word.endswith('s') else 's')


class Registrar:
    """Mixin: each subclass registers under its lower-cased class name.

    A base class declares its own ``_registry = {}``; every class below it
    is entered there under ``cls.__name__.lower()`` and under each name in
    its own ``aliases`` tuple. A user subclass registers the same way, so
    ``class WeightInverse(theanets.Regularizer)`` is known as
    ``'weightinverse'``.
    """

    _registry = None
    #: Extra lookup names for this class (not inherited).
    aliases = ()
    #: Word used in error messages ("unknown activation 'x'").
    _kind = 'name'

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if '_registry' in cls.__dict__:
            return  # a base class with a registry of its own
        names = (cls.__name__.lower(),) + tuple(cls.__dict__.get('aliases', ()))
        for name in names:
            cls._registry[name.lower()] = cls

    @classmethod
    def lookup(cls, name):
        """The registered class for ``name`` (case-insensitive).

        Raises
        ------
        ConfigurationError
            When ``name`` is not registered; the message lists known names.
        """
        key = str(name).lower()
        if key in cls._registry:
            return cls._registry[key]
        known = sorted(cls._registry)
        raise ConfigurationError(
            f'unknown {cls._kind} {name!r}{closest(key, known)}; known '
            f'{_plural(cls._kind)}: {", ".join(known)}')

    @classmethod
    def build(cls, key, /, *args, **kwargs):
        """Create the class registered as ``key`` with these arguments
        (``theanets.Layer.build('ff', size=3, inputs={'in:out': 2})``)."""
        return cls.lookup(key)(*args, **kwargs)

    @classmethod
    def is_registered(cls, name):
        """True when ``name`` is a registered name (case-insensitive)."""
        return isinstance(name, str) and name.lower() in cls._registry


def log(msg, *args, **kwargs):
    """Log an INFO message on the ``theanets`` logger, ``{}``-formatted.

    >>> log('epoch {} loss {:.3f}', 3, 0.25)  # doctest: +SKIP
    """
    if args or kwargs:
        msg = msg.format(*args, **kwargs)
    logger.info(msg)
