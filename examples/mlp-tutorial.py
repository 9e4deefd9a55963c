#!/usr/bin/env python
"""The deeplearning.net MLP tutorial's recipe, in theanets.

One tanh hidden layer (50 units here; the tutorial's 500 with --full or
--hidden 500), Glorot-scaled initial weights, a softmax output, plain SGD
with learning rate 0.01 on minibatches of 20, optional L1/L2 weight
penalties and early stopping on the validation loss.

theanets initializes weights with Glorot's scale by default (normal, std
sqrt(2 / (fan_in + fan_out)): the variance of the tutorial's uniform
+-sqrt(6 / (fan_in + fan_out))). Its weight_l1 and weight_l2 are *means*
over the weights, not the tutorial's sums, so useful values are larger
(about 1e-4 * number of weights for the same push: try --l2 1).

MNIST comes from theanets.datasets.load_mnist(); without it (offline) the
script uses Fashion-MNIST and says so. The default run trains on 10,000
images for at most 20 epochs; --full on all 50,000 with 500 hidden units
for up to 1,000 epochs (early stopping usually ends it long before). The
last line printed is "test accuracy: 0.xxxx".
"""

import argparse
import time

import numpy as np

import theanets
from theanets import datasets


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--data', metavar='DIR', help='folder holding the '
                        'four MNIST IDX files (default: load_mnist())')
    parser.add_argument('--full', action='store_true', help='all 50,000 '
                        'training images, 500 hidden units, 1,000 epochs')
    parser.add_argument('--train-size', type=int, metavar='N',
                        help='train on the first N images')
    parser.add_argument('--hidden', type=int, metavar='N',
                        help='hidden units (default: 50; 500 with --full)')
    parser.add_argument('--l1', type=float, default=0.0,
                        help='weight_l1 penalty (default: %(default)s)')
    parser.add_argument('--l2', type=float, default=0.0,
                        help='weight_l2 penalty (default: %(default)s)')
    parser.add_argument('--epochs', type=int, metavar='N',
                        help='at most N epochs (default: 20; 1000 with --full)')
    parser.add_argument('--patience', type=int, default=10,
                        help='validations without a 0.5%% improvement '
                        'before stopping (default: %(default)s)')
    parser.add_argument('--max-updates', type=int, metavar='N',
                        help='stop after N updates (overrides --epochs)')
    args = parser.parse_args()

    train, valid, (x_test, y_test), name = datasets.load_mnist_or_fashion(args.data)
    size = args.train_size or (None if args.full else 10000)
    train = tuple(a[:size] for a in train)
    hidden = args.hidden or (500 if args.full else 50)
    epochs = args.epochs or (1000 if args.full else 20)
    batch_size = 20
    print(f'{name}: {len(train[0])} training, {len(valid[0])} validation, '
          f'{len(x_test)} test images; {hidden} tanh hidden units',
          flush=True)

    net = theanets.Classifier([784, (hidden, 'tanh'), 10])  # softmax output
    start = time.time()
    net.train(train, valid, algo='sgd', learning_rate=0.01,
              batch_size=batch_size, weight_l1=args.l1, weight_l2=args.l2,
              validate_every=1, patience=args.patience, min_improvement=0.005,
              max_updates=args.max_updates or
              epochs * -(-len(train[0]) // batch_size))
    print(f'trained {len(net.history)} epochs in '
          f'{time.time() - start:.1f}s; validation accuracy of the best '
          f'model: {net.score(*valid):.4f}')
    accuracy = np.mean(net.predict(x_test) == y_test)
    print(f'test accuracy: {accuracy:.4f}')


if __name__ == '__main__':
    main()
