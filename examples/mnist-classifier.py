#!/usr/bin/env python
"""Classify MNIST digits with one hidden layer, as the theanets docs teach.

    net = theanets.Classifier(layers=[784, 100, 10])
    net.train(train, valid, algo='nag', learning_rate=1e-3, momentum=0.9)

MNIST comes from theanets.datasets.load_mnist() (downloaded once into the
cache); without it (offline) the script uses Fashion-MNIST and says so.
The default run trains on 10,000 images for at most 40 epochs; --full on
all 50,000 until early stopping ends it. The last line printed is
"test accuracy: 0.xxxx". With --plot DIR it writes the
first layer's weights as 28x28 tiles, the learning curves and the test
confusion matrix as PNGs.
"""

import argparse
import os
import time

import numpy as np

import theanets
from theanets import datasets

FASHION = ('T-shirt/top', 'trouser', 'pullover', 'dress', 'coat', 'sandal',
           'shirt', 'sneaker', 'bag', 'ankle boot')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', metavar='DIR', help='folder holding the '
                        'four MNIST IDX files (default: load_mnist())')
    parser.add_argument('--full', action='store_true',
                        help='train on all 50,000 images until early '
                        'stopping (default: 10,000, at most 40 epochs)')
    parser.add_argument('--train-size', type=int, metavar='N',
                        help='train on the first N images')
    parser.add_argument('--hidden', type=int, default=100,
                        help='hidden units (default: %(default)s)')
    parser.add_argument('--learning-rate', type=float, default=1e-3,
                        help='default: %(default)s')
    parser.add_argument('--momentum', type=float, default=0.9,
                        help='default: %(default)s')
    parser.add_argument('--epochs', type=int, metavar='N',
                        help='at most N epochs (default: 40; with --full, '
                        'until early stopping)')
    parser.add_argument('--max-updates', type=int, metavar='N',
                        help='stop after N updates (overrides --epochs)')
    parser.add_argument('--plot', metavar='DIR', help='write PNGs there')
    args = parser.parse_args()

    train, valid, (x_test, y_test), name = datasets.load_mnist_or_fashion(args.data)
    size = args.train_size or (None if args.full else 10000)
    train = tuple(a[:size] for a in train)
    print(f'{name}: {len(train[0])} training, {len(valid[0])} validation, '
          f'{len(x_test)} test images', flush=True)

    epochs = args.epochs or (None if args.full else 40)
    limit = args.max_updates or (epochs and epochs * -(-len(train[0]) // 32))

    net = theanets.Classifier(layers=[784, args.hidden, 10])
    start = time.time()
    net.train(train, valid, algo='nag', learning_rate=args.learning_rate,
              momentum=args.momentum, batch_size=32, validate_every=1,
              patience=5, min_improvement=0.001, max_updates=limit)
    print(f'trained {len(net.history)} epochs in '
          f'{time.time() - start:.1f}s')

    if args.plot:
        from theanets import plot
        w = net.find('hid1', 'w').get_value()  # (784, hidden): a column a unit
        plot.weight_tiles(w, (28, 28), os.path.join(args.plot, 'weights.png'),
                          title=f'hid1 weights ({name})')
        plot.learning_curves(net.history, os.path.join(args.plot, 'curves.png'),
                             keys=('loss', 'acc'))
        labels = FASHION if name == 'Fashion-MNIST' else None
        plot.confusion_matrix(y_test, net.predict(x_test),
                              os.path.join(args.plot, 'confusion.png'),
                              labels=labels)
        print(f'wrote weights.png, curves.png and confusion.png to {args.plot}')
    accuracy = np.mean(net.predict(x_test) == y_test)
    print(f'test accuracy: {accuracy:.4f}')


if __name__ == '__main__':
    main()
