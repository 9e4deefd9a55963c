#!/usr/bin/env python
"""A deeper classifier on raw pixels and on centred, whitened pixels.

Trains Classifier([784, 128, 64, 10]) twice for 10 epochs each, with the
same seed and settings: once on the pixels as they are, once after
centring and whitening them with a transformer from theanets.preprocess
(ZCA by default, which keeps the 784 pixels; --whiten pca keeps the
components explaining 99% of the variance, so the input layer shrinks).
The transformer is fitted on the training set only and applied unchanged
to the validation and test sets.

MNIST comes from theanets.datasets.load_mnist(); without it (offline) the
script uses Fashion-MNIST and says so. The default run uses 10,000
training images; --full all 50,000. It prints both test accuracies; the
last line, "test accuracy: 0.xxxx", is the whitened model's.
"""

import argparse
import time

import numpy as np

import theanets
from theanets import datasets, preprocess


def fit(train, valid, test, args):
    """Train a fresh [n, 128, 64, 10] classifier; its test accuracy."""
    net = theanets.Classifier([train[0].shape[1], 128, 64, 10], rng=args.seed)
    batches = -(-len(train[0]) // args.batch_size)
    start = time.time()
    net.train(train, valid, algo='nag', learning_rate=args.learning_rate,
              momentum=0.9, batch_size=args.batch_size, validate_every=1,
              patience=args.epochs, max_updates=args.max_updates or
              args.epochs * batches)
    return net.score(*test), len(net.history), time.time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', metavar='DIR', help='folder holding the '
                        'four MNIST IDX files (default: load_mnist())')
    parser.add_argument('--full', action='store_true',
                        help='train on all 50,000 images (default: 10,000)')
    parser.add_argument('--train-size', type=int, metavar='N',
                        help='train on the first N images')
    parser.add_argument('--whiten', choices=('zca', 'pca'), default='zca',
                        help='default: %(default)s')
    parser.add_argument('--epsilon', type=float, default=0.1,
                        help='ZCA regularizer: larger values amplify pixel '
                        'noise less (default: %(default)s)')
    parser.add_argument('--epochs', type=int, default=10,
                        help='default: %(default)s')
    parser.add_argument('--batch-size', type=int, default=32,
                        help='default: %(default)s')
    parser.add_argument('--learning-rate', type=float, default=0.01,
                        help='nag step size (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=13,
                        help='initial weights (default: %(default)s)')
    parser.add_argument('--max-updates', type=int, metavar='N',
                        help='stop after N updates (overrides --epochs)')
    args = parser.parse_args()

    train, valid, test, name = datasets.load_mnist_or_fashion(args.data)
    size = args.train_size or (None if args.full else 10000)
    train = tuple(a[:size] for a in train)
    print(f'{name}: {len(train[0])} training, {len(valid[0])} validation, '
          f'{len(test[0])} test images; up to {args.epochs} epochs each',
          flush=True)

    raw, epochs, seconds = fit(train, valid, test, args)
    print(f'raw pixels:        test accuracy {raw:.4f} '
          f'({epochs} epochs, {seconds:.1f}s)', flush=True)

    if args.whiten == 'zca':
        white = preprocess.ZCA(epsilon=args.epsilon)
    else:
        white = preprocess.PCA(n_components=0.99, whiten=True)
    # fit on the training images only: the model must not peek at the others
    white.fit(train[0])
    whitened = [(white.transform(x).astype(np.float32), y)
                for x, y in (train, valid, test)]
    label = f'centred + {args.whiten.upper()}' + (
        f' ({white.n_components_} components)' if args.whiten == 'pca' else '')
    accuracy, epochs, seconds = fit(*whitened, args)
    print(f'{label + ":":<18} test accuracy {accuracy:.4f} '
          f'({epochs} epochs, {seconds:.1f}s)')
    print(f'test accuracy: {accuracy:.4f}')


if __name__ == '__main__':
    main()
