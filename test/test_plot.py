"""theanets.plot: each function writes a valid PNG and returns its figure."""

import numpy as np
import pytest

pytest.importorskip('matplotlib')

from theanets import plot  # noqa: E402

PNG = b'\x89PNG\r\n\x1a\n'


def _png(path):
    """The pixels of a PNG file, after checking its signature."""
    import matplotlib.image
    with open(path, 'rb') as handle:
        assert handle.read(8) == PNG
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and min(image.shape[:2]) > 50
    return image


HISTORY = [({'loss': 1.0 / (i + 1), 'err': 1.0 / (i + 1), 'acc': 0.5 + i / 20},
            {'loss': 1.2 / (i + 1), 'err': 1.2 / (i + 1), 'acc': 0.4 + i / 20})
           for i in range(6)]


def test_learning_curves_png(tmp_path):
    path = tmp_path / 'sub' / 'curves.png'  # folders are created
    fig = plot.learning_curves(HISTORY, path, keys=('loss', 'acc'))
    assert len(fig.axes) == 2
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ['train', 'valid']
    np.testing.assert_allclose(lines[0].get_ydata(),
                               [h[0]['loss'] for h in HISTORY])
    # training values sit at the end of their epoch, validations before it
    assert list(lines[0].get_xdata()) == [1, 2, 3, 4, 5, 6]
    assert list(lines[1].get_xdata()) == [0, 1, 2, 3, 4, 5]
    _png(path)


def test_learning_curves_from_a_trained_model(tmp_path):
    import theanets
    rng = np.random.default_rng(0)
    x = rng.random((40, 4)).astype('f')
    net = theanets.Classifier([4, 3, 2])
    net.train((x, (x[:, 0] > .5).astype('i')), algo='sgd', max_updates=12,
              batch_size=10, validate_every=1)
    fig = plot.learning_curves(net.history, tmp_path / 'c.png', keys='acc')
    assert len(fig.axes[0].get_lines()[0].get_xdata()) == len(net.history)
    _png(tmp_path / 'c.png')


def test_learning_curves_into_given_axes():
    from matplotlib.figure import Figure
    ax = Figure().add_subplot()
    fig = plot.learning_curves(HISTORY, keys=('loss', 'err'), ax=ax)
    assert fig is ax.figure
    assert [line.get_label() for line in ax.get_lines()] == [
        'train loss', 'valid loss', 'train err', 'valid err']


def test_learning_curves_errors():
    with pytest.raises(ValueError, match='empty'):
        plot.learning_curves([])
    with pytest.raises(ValueError, match="no monitor 'nope'.*acc, err, loss"):
        plot.learning_curves(HISTORY, keys=('nope',))


def test_weight_tiles_png(tmp_path, rng):
    w = rng.normal(size=(16, 6))
    fig = plot.weight_tiles(w, (4, 4), tmp_path / 'w.png', title='w')
    image = fig.axes[0].get_images()[0].get_array()
    # 6 tiles -> 3 columns x 2 rows of 4x4 pixels with 1-pixel gaps
    assert image.shape == (2 * 5 + 1, 3 * 5 + 1)
    tile = np.asarray(image[1:5, 1:5])
    # each tile is scaled to its own largest absolute weight: 0 -> 0.5
    np.testing.assert_allclose(tile, 0.5 + 0.5 * w[:, 0].reshape(4, 4) /
                               np.abs(w[:, 0]).max())
    _png(tmp_path / 'w.png')


def test_weight_tiles_first_n_and_errors(rng):
    fig = plot.weight_tiles(rng.normal(size=(9, 20)), (3, 3), n=4)
    assert fig.axes[0].get_images()[0].get_array().shape == (9, 9)
    with pytest.raises(ValueError, match=r'\(9, units\).*got \(10, 3\)'):
        plot.weight_tiles(np.zeros((10, 3)), (3, 3))


def test_image_tiles_gray_and_colour(tmp_path, rng):
    fig = plot.image_tiles(rng.random((5, 36)), (6, 6), tmp_path / 'g.png',
                           cols=5)
    assert fig.axes[0].get_images()[0].get_array().shape == (8, 36)
    _png(tmp_path / 'g.png')
    plot.image_tiles(rng.random((3, 4, 4, 3)), (4, 4, 3), tmp_path / 'c.png')
    _png(tmp_path / 'c.png')
    with pytest.raises(ValueError, match='shape='):
        plot.image_tiles(rng.random((3, 10)), (3, 3))
    with pytest.raises(ValueError, match='normalize'):
        plot.image_tiles(rng.random((3, 9)), (3, 3), normalize='yes')


def test_confusion_matrix_counts_and_png(tmp_path):
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    fig, counts = plot.confusion_matrix(y_true, y_pred, tmp_path / 'cm.png',
                                        labels=['a', 'b', 'c'])
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 2, 0], [1, 0, 2]])
    assert counts.dtype == np.int64
    assert 'accuracy 0.7143 (7 samples)' in fig.axes[0].get_title()
    ticks = fig.axes[0].get_xticklabels()
    assert [t.get_text() for t in ticks] == ['a', 'b', 'c']
    _png(tmp_path / 'cm.png')


def test_confusion_counts_errors():
    np.testing.assert_array_equal(plot.confusion_counts([1], [1], 3),
                                  [[0, 0, 0], [0, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match='must match'):
        plot.confusion_counts([0, 1], [0])
    with pytest.raises(ValueError, match='integer labels'):
        plot.confusion_counts([0.5], [0])
    with pytest.raises(ValueError, match='n_classes=2'):
        plot.confusion_counts([0, 2], [0, 1], 2)


def test_no_pyplot_state(tmp_path, rng):
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    plot.weight_tiles(rng.normal(size=(4, 2)), (2, 2), tmp_path / 'w.png')
    plot.confusion_matrix([0, 1], [1, 1])
    assert plt.get_fignums() == before
