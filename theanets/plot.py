"""Pictures of models and training: learning curves, weight tiles, confusions.

Needs matplotlib (``pip install "theanets[plot]"``), imported only when a
function here is called. Figures are built with matplotlib's object API
(:class:`matplotlib.figure.Figure`), not pyplot: nothing here selects a
backend or needs a display, so the functions work on a headless server, and
no figure stays registered with pyplot. In a notebook a returned figure
displays itself; elsewhere pass ``path=`` to write a PNG, or draw into your
own axes with ``ax=``.

>>> net.train(train, valid, algo='nag')              # doctest: +SKIP
>>> learning_curves(net.history, 'curves.png',
...                 keys=('loss', 'acc'))              # doctest: +SKIP
>>> w = net.find('hid1', 'w').get_value()            # doctest: +SKIP
>>> weight_tiles(w, (28, 28), 'weights.png')          # doctest: +SKIP
>>> fig, counts = confusion_matrix(
...     y_test, net.predict(x_test), 'cm.png')         # doctest: +SKIP
"""

import math
import os

import numpy as np

__all__ = ['learning_curves', 'image_tiles', 'weight_tiles',
           'confusion_counts', 'confusion_matrix', 'summary']


def _new_figure(figsize):
    """A new figure that needs no display and is unknown to pyplot."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('theanets.plot needs matplotlib: pip install '
                          '"theanets[plot]"') from None
    return Figure(figsize=figsize, layout='constrained')


def _figure(ax, figsize):
    """``(figure, axes)``: the given axes' figure, or a new figure."""
    if ax is not None:
        return ax.figure, ax
    fig = _new_figure(figsize)
    return fig, fig.add_subplot()


def _save(fig, path, dpi=100):
    """Write ``fig`` to ``path`` (format from the suffix; PNG by default)."""
    if path is not None:
        path = os.fspath(path)
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        fig.savefig(path, dpi=dpi, format=None if os.path.splitext(path)[1]
                    else 'png')
    return fig


def learning_curves(history, path=None, keys=('loss',), ax=None,
                    title=None):
    """Plot training and validation monitors per epoch.

    Parameters
    ----------
    history : list of (dict, dict)
        ``net.history``: one ``(train_monitors, valid_monitors)`` pair per
        epoch. The x axis counts epochs: a training value is plotted at the
        end of the epoch it averages, a validation value after the number
        of epochs it was measured after (0: the untrained model).
    path : str or path-like, default=None
        Write the figure there (PNG unless the suffix names another format).
    keys : sequence of str, default=('loss',)
        Monitors to plot (``'loss'``, ``'err'``, ``'acc'``, ...): one panel
        each, with the training (solid) and validation (dashed) curves.
    ax : matplotlib Axes, default=None
        Draw every curve into these axes instead of a new figure.
    title : str, default=None
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When ``history`` is empty or no epoch has any of ``keys``.
    """
    history = list(history)
    if not history:
        raise ValueError('history is empty: train the model first '
                         '(net.history is filled by net.train)')
    keys = (keys,) if isinstance(keys, str) else tuple(keys)
    found = sorted({k for pair in history for mon in pair for k in mon})
    missing = [k for k in keys if k not in found]
    if missing:
        raise ValueError(f'history has no monitor {missing[0]!r}; it has: '
                         f'{", ".join(found)}')
    if ax is None:
        fig = _new_figure((4.5 * len(keys), 3.5))
        axes = fig.subplots(1, len(keys), squeeze=False)[0]
    else:
        fig, axes = ax.figure, [ax] * len(keys)
    # Entry i holds the mean over epoch i + 1 and the latest validation,
    # made before that epoch: after i epochs (epoch 0 is the initial model).
    epochs = np.arange(len(history))
    for key, axis in zip(keys, axes):
        for index, (label, style, x) in enumerate((('train', '-', epochs + 1),
                                                   ('valid', '--', epochs))):
            values = np.array([pair[index].get(key, np.nan)
                               for pair in history], dtype=float)
            if np.isfinite(values).any():
                name = f'{label} {key}' if ax is not None else label
                axis.plot(x, values, style, label=name)
        axis.set_xlabel('epoch')
        axis.set_ylabel(key)
        axis.grid(alpha=0.3)
        axis.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def image_tiles(images, shape=(28, 28), path=None, cols=None, normalize=None,
                cmap='gray', ax=None, title=None, pad=1):
    """Show each row of ``images`` as one tile of a grid.

    Parameters
    ----------
    images : ndarray, shape ``(n, prod(shape))`` or ``(n,) + shape``
        One image per row (for example inputs or reconstructions).
    shape : tuple of int, default=(28, 28)
        ``(rows, cols)`` of one image, or ``(rows, cols, 3)`` for colour.
    path : str or path-like, default=None
        Write the figure there.
    cols : int, default=None
        Tiles per row of the grid; default: about ``sqrt(n)``.
    normalize : {None, 'tile', 'all'}, default=None
        None shows values in [0, 1] as they are; ``'tile'`` scales each
        tile to its own largest absolute value (so signs stay visible,
        zero is mid-grey); ``'all'`` does so with one scale for all.
    cmap : str, default='gray'
        Matplotlib colour map of single-channel images.
    ax : matplotlib Axes, default=None
        Draw into these axes instead of a new figure.
    title : str, default=None
    pad : int, default=1
        Pixels between tiles.

    Returns
    -------
    matplotlib.figure.Figure
    """
    shape = tuple(int(s) for s in shape)
    images = np.asarray(images, dtype=float)
    size = int(np.prod(shape))
    if images.ndim < 2 or images[0].size != size:
        raise ValueError(f'expected images of shape (n, {size}) or '
                         f'(n,) + {shape}, got {images.shape}; pass shape= '
                         f'(the shape of one image)')
    if len(images) == 0:
        raise ValueError('no images to show (got 0 rows)')
    images = images.reshape((len(images),) + shape)
    if normalize not in (None, 'tile', 'all'):
        raise ValueError(f"normalize must be None, 'tile' or 'all', "
                         f"got {normalize!r}")
    if normalize is not None:
        axes = tuple(range(1, images.ndim)) if normalize == 'tile' else None
        scale = np.abs(images).max(axis=axes, keepdims=True)
        images = 0.5 + 0.5 * images / np.maximum(scale, 1e-12)
    n = len(images)
    cols = max(1, min(n, cols or math.ceil(math.sqrt(n))))
    rows = math.ceil(n / cols)
    height, width = shape[0] + pad, shape[1] + pad
    mosaic = np.full((rows * height + pad, cols * width + pad) + shape[2:],
                     np.nan)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        mosaic[pad + r * height:(r + 1) * height,
               pad + c * width:(c + 1) * width] = image
    scale = 0.25 if shape[0] < 16 else 0.12
    fig, axis = _figure(ax, (max(2.0, cols * shape[1] * scale / 2.8),
                             max(2.0, rows * shape[0] * scale / 2.8)))
    if mosaic.ndim == 3:  # colour: NaN padding shows white
        mosaic = np.clip(np.nan_to_num(mosaic, nan=1.0), 0, 1)
    axis.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0,
                interpolation='nearest')
    axis.set_axis_off()
    if title:
        axis.set_title(title)
    return _save(fig, path)


def weight_tiles(w, shape=(28, 28), path=None, n=None, cols=None,
                 cmap='gray', ax=None, title=None):
    """Show each column of a weight matrix as an image tile.

    Each unit's incoming weights, ``w[:, j]``, are reshaped to ``shape``
    and scaled to their own largest absolute value: mid-grey is zero,
    white positive, black negative.

    Parameters
    ----------
    w : ndarray, shape ``(prod(shape), units)``
        For example ``net.find('hid1', 'w').get_value()``, ``(784, 100)``.
    shape : tuple of int, default=(28, 28)
        The shape of one input image.
    path : str or path-like, default=None
        Write the figure there.
    n : int, default=None
        Show only the first ``n`` units (default: all).
    cols, cmap, ax, title
        As for :func:`image_tiles`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    w = np.asarray(w, dtype=float)
    if w.ndim != 2 or w.shape[0] != int(np.prod(shape)):
        raise ValueError(f'expected a weight matrix of shape '
                         f'({int(np.prod(shape))}, units) for tiles of shape '
                         f'{tuple(shape)}, got {w.shape}; pass shape= or '
                         f'the first layer\'s weights')
    columns = w.T if n is None else w.T[:int(n)]
    return image_tiles(columns, shape, path, cols=cols, normalize='tile',
                       cmap=cmap, ax=ax, title=title)


def confusion_counts(y_true, y_pred, n_classes=None):
    """The confusion matrix as counts.

    Parameters
    ----------
    y_true, y_pred : array of int, shape ``(n,)``
        True and predicted class labels, in ``[0, n_classes)``.
    n_classes : int, default=None
        Default: one more than the largest label.

    Returns
    -------
    ndarray of int64, shape ``(n_classes, n_classes)``
        ``counts[i, j]`` samples of class ``i`` were predicted as ``j``.
    """
    y_true = np.asarray(y_true).ravel()
    y_pred = np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f'y_true has {len(y_true)} labels but y_pred has '
                         f'{len(y_pred)}; they must match')
    for name, y in (('y_true', y_true), ('y_pred', y_pred)):
        if y.size and (not np.all(y == np.round(y)) or y.min() < 0):
            raise ValueError(f'{name} must hold integer labels >= 0 '
                             f'(class indices), got values like {y[:3]}')
    y_true, y_pred = y_true.astype(np.int64), y_pred.astype(np.int64)
    top = max([int(y.max()) + 1 for y in (y_true, y_pred) if y.size] + [1])
    if n_classes is None:
        n_classes = top
    elif top > n_classes:
        raise ValueError(f'found label {top - 1}, but n_classes={n_classes}')
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


def confusion_matrix(y_true, y_pred, path=None, labels=None, ax=None,
                     title=None, cmap='Blues'):
    """Plot the confusion matrix of a classifier's predictions.

    Cells are coloured by the fraction of each true class (row) and show
    the counts; the title gives the accuracy.

    Parameters
    ----------
    y_true, y_pred : array of int, shape ``(n,)``
        True labels and predictions (``net.predict(x)``).
    path : str or path-like, default=None
        Write the figure there.
    labels : sequence of str, default=None
        Class names, one per class (default: ``0, 1, ...``).
    ax : matplotlib Axes, default=None
    title : str, default=None
        Default: ``'accuracy 0.xxxx (n samples)'``.
    cmap : str, default='Blues'

    Returns
    -------
    figure : matplotlib.figure.Figure
    counts : ndarray of int64, shape ``(k, k)``
        As :func:`confusion_counts`: rows are true classes.
    """
    counts = confusion_counts(y_true, y_pred,
                              None if labels is None else len(labels))
    k = len(counts)
    labels = [str(i) for i in range(k)] if labels is None else \
        [str(label) for label in labels]
    fractions = counts / np.maximum(1, counts.sum(axis=1, keepdims=True))
    side = 1.6 + 0.45 * k
    fig, axis = _figure(ax, (side + 1.2, side))
    image = axis.imshow(fractions, cmap=cmap, vmin=0, vmax=1)
    if k <= 30:
        for (i, j), count in np.ndenumerate(counts):
            if count:
                axis.text(j, i, str(count), ha='center', va='center',
                          fontsize=8 if k > 12 else 9,
                          color='white' if fractions[i, j] > 0.5 else 'black')
    axis.set_xticks(range(k), labels, rotation=45 if max(map(len, labels)) > 2
                    else 0, ha='right' if max(map(len, labels)) > 2
                    else 'center')
    axis.set_yticks(range(k), labels)
    axis.set_xlabel('predicted')
    axis.set_ylabel('true')
    total = counts.sum()
    accuracy = np.trace(counts) / max(1, total)
    axis.set_title(title or f'accuracy {accuracy:.4f} ({total} samples)')
    fig.colorbar(image, ax=axis, fraction=0.046, pad=0.04,
                 label='fraction of true class')
    return _save(fig, path), counts


def summary(net, folder, test=None, labels=None):
    """Write the usual pictures of a trained model into ``folder``.

    ``curves.png`` (:func:`learning_curves` of the loss, and accuracy for a
    classifier); ``weights.png`` (:func:`weight_tiles` of the first 100
    units of the first layer) when the input size is a square number of
    pixels; ``confusion.png`` (:func:`confusion_matrix`) for a classifier
    given ``test``.

    Parameters
    ----------
    net : Network
        A trained model (its ``history`` is not empty).
    folder : str or path-like
        Created when missing.
    test : (x, y), default=None
        Test inputs and labels for the confusion matrix.
    labels : sequence of str, default=None
        Class names for the confusion matrix.

    Returns
    -------
    list of str
        The paths written.
    """
    classifier = hasattr(net, 'predict_proba')
    paths = [os.path.join(folder, 'curves.png')]
    learning_curves(net.history, paths[-1],
                    keys=('loss', 'acc') if classifier else ('loss',))
    params = net.layers[1].params if len(net.layers) > 1 else []
    w = params[0].get_value() if params else None
    side = int(round(math.sqrt(net.layers[0].size)))
    if w is not None and w.ndim == 2 and side * side == w.shape[0]:
        paths.append(os.path.join(folder, 'weights.png'))
        weight_tiles(w, (side, side), paths[-1], n=100,
                     title=f'{net.layers[1].name} weights')
    if classifier and test is not None and test[1] is not None:
        paths.append(os.path.join(folder, 'confusion.png'))
        confusion_matrix(test[1], net.predict(test[0]), paths[-1], labels)
    return paths
