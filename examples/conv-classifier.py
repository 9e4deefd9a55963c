#!/usr/bin/env python
"""Classify Fashion-MNIST images with a small convolutional network.

    net = theanets.convolution.Classifier([(28, 28, 1),
        dict(form='conv2', size=16, filter_size=(3, 3)),
        dict(form='pool2', pool_size=(2, 2)),
        dict(form='conv2', size=32, filter_size=(3, 3)),
        dict(form='pool2', pool_size=(2, 2)), 'flat', 64, 10])
    net.train((x, y), valid, algo='adam')

Images are channels-last arrays ``(n, 28, 28, 1)``. The data comes from
theanets.datasets.load_fashion_mnist() when its files are installed or
cached (it does not download here unless --download is given); otherwise
the script falls back to scikit-learn's 8x8 digits and says so. The
default run trains on 10,000 images for about two minutes on two cores
(--minutes); --full trains on all 50,000 until the validation accuracy
stops improving. The last line printed is "test accuracy: 0.xxxx".
"""

import argparse
import time

from theanets import convolution, datasets


def load(download=False):
    """``(train, valid, test, shape, name)`` with images shaped for conv2."""
    try:
        train, valid, test = datasets.load_fashion_mnist(download=download)
        shape, name = (28, 28, 1), 'Fashion-MNIST'
    except (datasets.DataNotFoundError, OSError) as err:
        print(f'Fashion-MNIST is not available ({err}); using the 8x8 '
              'digits of scikit-learn instead', flush=True)
        train, valid, test = datasets.load_digits()
        shape, name = (8, 8, 1), 'scikit-learn digits'
    return [(x.reshape((-1,) + shape), y) for x, y in (train, valid, test)] + \
        [shape, name]


def model(shape, filters, hidden):
    """Two conv + pool stages, then a dense layer and the softmax."""
    small = shape[0] < 16  # 8x8 digits: pad so that the sizes stay even
    border = 'same' if small else 'valid'
    layers = [shape]
    for size in filters:
        layers += [dict(form='conv2', size=size, filter_size=(3, 3),
                        border_mode=border),
                   dict(form='pool2', pool_size=(2, 2))]
    return convolution.Classifier(layers + ['flat', hidden, 10])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--full', action='store_true',
                        help='train on all 50,000 images, no time limit')
    parser.add_argument('--train-size', type=int, default=10000, metavar='N',
                        help='training images without --full '
                        '(default: %(default)s)')
    parser.add_argument('--minutes', type=float, default=2,
                        help='training time limit without --full '
                        '(default: %(default)s)')
    parser.add_argument('--filters', type=int, nargs=2, default=(16, 32),
                        help='filters of the two conv layers '
                        '(default: 16 32)')
    parser.add_argument('--hidden', type=int, default=64,
                        help='dense units (default: %(default)s)')
    parser.add_argument('--learning-rate', type=float, default=1e-3,
                        help='default: %(default)s')
    parser.add_argument('--download', action='store_true',
                        help='download Fashion-MNIST when it is missing')
    args = parser.parse_args()

    train, valid, (x_test, y_test), shape, name = load(args.download)
    if not args.full:
        train = tuple(a[:args.train_size] for a in train)
        valid = tuple(a[:2000] for a in valid)
    print(f'{name}: {len(train[0])} training, {len(valid[0])} validation, '
          f'{len(x_test)} test images of shape {shape}', flush=True)

    net = model(shape, args.filters, args.hidden)
    start = time.time()
    limit = None if args.full else 60 * args.minutes

    def report(epoch, train_mon, valid_mon):
        print(f'epoch {epoch}: loss {train_mon["loss"]:.3f} acc '
              f'{train_mon["acc"]:.3f} ({time.time() - start:.0f}s)',
              flush=True)
        return limit is not None and time.time() - start > limit

    net.train(train, valid, algo='adam', learning_rate=args.learning_rate,
              batch_size=64, validate_every=1, patience=3,
              min_improvement=0.002, callbacks=[report])
    print(f'trained {len(net.history)} epochs in {time.time() - start:.0f}s')
    print(f'test accuracy: {net.score(x_test, y_test):.4f}')


if __name__ == '__main__':
    main()
