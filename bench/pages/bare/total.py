"""The bare page's Python (bench.page_bench): run by its worker once NumPy is loaded, which then calls
``total`` on each Uint8Array it is sent, as the app's worker calls digitnet for each drawing."""

import numpy as np


def total(data):
    return int(np.frombuffer(data.to_bytes(), dtype=np.uint8).sum())
