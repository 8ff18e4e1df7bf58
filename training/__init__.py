"""Offline side: data, augmentation, the training and evaluation CLIs, plots.

The maths (forward pass, backprop, SGD, preprocessing, model file) is the
package ``digitnet`` (py/digitnet/), which the page runs too.
"""
