"""digitnet: the digit network's maths, shared by the page and the offline side.

One source of truth, NumPy only (it runs in CPython and, in the page, in Pyodide):

- ``sizes``: the image side, pixel and class counts, the 20 px box, the page's canvas.
- ``network``: the model and its forward pass (ReLU layers, softmax).
- ``learn``: initialisation, cross-entropy, backpropagation, the SGD-with-momentum step.
- ``preprocess``: pad pixels -> a 28x28 image the way MNIST was made.
- ``modelfile``: the ``.npz`` model file, written by training and read everywhere.
- ``atomic``: files written whole or not at all (models, caches, generated assets).
- ``predict``: a drawing in, the network's view and probabilities out.
- ``samples``: one drawing of each digit as pen strokes (the page's sample digits, the tests').
- ``browser``: the API the page's Web Worker calls (load a model, predict into one buffer).
"""

__version__ = "1.1.0"
