"""Shapes and sizes, named once. The page reads them from the worker's ready message.

MNIST images are SIDE x SIDE pixels (PIXELS inputs) of CLASSES digits (a model may
have one more output, NOT_DIGIT, for drawings that are not a digit); each
digit was scaled to fit a BOX x BOX box. The page draws strokes on a canvas
CANVAS pixels high (7 x BOX: a digit drawn a fifth of the pad high keeps its detail,
and Python's work per pen move stays small) and as wide as the pad or the drawing.
"""

SIDE = 28  # MNIST image side (px)
PIXELS = SIDE * SIDE  # 784 network inputs
CLASSES = 10  # digits 0-9
NOT_DIGIT = CLASSES  # index of the optional 11th output: "not a digit"
BOX = 20  # side of the box a digit is scaled into (px)
CANVAS = 7 * BOX  # side of the page's model canvas (px): 140

# The page's pen: its diameter as a fraction of the pad's height (2.1-14 px at CANVAS = 140). The
# offline drawn digits and non-digits use the same range, so training sees every pen the page has.
PEN_MIN = 0.015  # thinnest
PEN_MAX = 0.1  # thickest
PEN_STEP = 0.005  # the slider's step
PEN_DEFAULT = 0.07  # a first visit's pen
# A pen thicker than PEN_THICKEST of a drawing's size (its strokes' centre lines) is drawn by no
# training example, so reading degrades past it (digitnet.number.fitting_pen); PEN_FIT of the size is
# the pen suggested then: MNIST's strokes, 2.5 px of a 20 px digit.
PEN_THICKEST = 0.2
PEN_FIT = 0.12
