#!/usr/bin/env python
"""A tied-weights autoencoder of digit images, and what its features are worth.

Trains theanets.Autoencoder([784, 256, ('tied', 784)]): a 256-unit ReLU
encoder and a decoder that reuses the encoder's weights (transposed), so
there is one weight matrix to learn. It reports the reconstruction R^2 on
the test images, then trains a softmax classifier on the 256 features
alone; the last line printed is that classifier's
"test accuracy: 0.xxxx". With --plot DIR it writes reconstructions.png
(test images above their reconstructions) and features.png (each hidden
unit's weights as a 28x28 tile).

MNIST comes from theanets.datasets.load_mnist(); without it (offline) the
script uses Fashion-MNIST and says so. The default run uses 10,000
training images; --full all 50,000.
"""

import argparse
import os
import time

import numpy as np

import theanets
from theanets import datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', metavar='DIR', help='folder holding the '
                        'four MNIST IDX files (default: load_mnist())')
    parser.add_argument('--full', action='store_true',
                        help='train on all 50,000 images (default: 10,000)')
    parser.add_argument('--train-size', type=int, metavar='N',
                        help='train on the first N images')
    parser.add_argument('--hidden', type=int, default=256,
                        help='features (default: %(default)s)')
    parser.add_argument('--epochs', type=int, default=10,
                        help='at most this many epochs for each model '
                        '(default: %(default)s)')
    parser.add_argument('--max-updates', type=int, metavar='N',
                        help='stop each model after N updates')
    parser.add_argument('--plot', metavar='DIR', help='write PNGs there')
    args = parser.parse_args()

    (x, y), (xv, yv), (xs, ys), name = datasets.load_mnist_or_fashion(args.data)
    size = args.train_size or (None if args.full else 10000)
    x, y = x[:size], y[:size]
    print(f'{name}: {len(x)} training, {len(xv)} validation, {len(xs)} test '
          f'images', flush=True)
    batch_size = 32
    limit = args.max_updates or args.epochs * -(-len(x) // batch_size)

    net = theanets.Autoencoder([784, args.hidden, ('tied', 784)])
    start = time.time()
    net.train((x,), (xv,), algo='rmsprop', learning_rate=1e-3,
              batch_size=batch_size, validate_every=1, patience=3,
              max_updates=limit)
    print(f'autoencoder: {len(net.history)} epochs in '
          f'{time.time() - start:.1f}s; test reconstruction R^2 '
          f'{net.score(xs):.4f}', flush=True)

    if args.plot:
        from theanets import plot
        n = 12
        pairs = np.concatenate([xs[:n], net.predict(xs[:n])])
        plot.image_tiles(pairs, (28, 28),
                         os.path.join(args.plot, 'reconstructions.png'),
                         cols=n, title='test images (top), reconstructions')
        plot.weight_tiles(net.find('hid1', 'w').get_value(), (28, 28),
                          os.path.join(args.plot, 'features.png'), n=100,
                          title='features: hid1 weights')
        print(f'wrote reconstructions.png and features.png to {args.plot}')

    # How good are the features? A softmax on the codes alone.
    codes = [net.encode(a, 'hid1') for a in (x, xv, xs)]
    clf = theanets.Classifier([args.hidden, 10])
    clf.train((codes[0], y), (codes[1], yv), algo='nag', learning_rate=1e-2,
              momentum=0.9, batch_size=batch_size, validate_every=1,
              patience=3, max_updates=limit)
    print(f'test accuracy: {clf.score(codes[2], ys):.4f}')


if __name__ == '__main__':
    main()
