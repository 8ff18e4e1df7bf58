"""Make the next epoch's training images in a second process while this epoch trains.

Augmenting 170000 images takes about as long as training on them, and training uses one core
well but not two (a batch of 64 is too small for BLAS to split). So a child process augments
epoch e + 1 while the parent trains on epoch e, each on its own core.

Both processes see the same two buffers (anonymous shared memory, made before the fork): the
child fills buffer e % 2 with epoch e, the parent trains on it and hands the buffer back. The
images of epoch e are ``make(e)``, whatever the timing: training is as reproducible as in one
process. Linux and macOS only (fork); elsewhere ``epochs`` runs ``make`` in the parent.

    for x in epochs(lambda e: augment(images, rng_of(e)), n_epochs, images.shape):
        ...train on x...          # x is valid until the next iteration
"""

from __future__ import annotations

import mmap
import multiprocessing
import queue
import traceback
from collections.abc import Callable, Iterator

import numpy as np

WAIT_S = 1.0  # how often the parent checks that the child is still alive while it waits


class AheadError(RuntimeError):
    """The process making the epochs failed: its traceback, or how it died."""


def epochs(
    make: Callable[[int], np.ndarray], n: int, shape: tuple[int, ...], dtype=np.float32
) -> Iterator[np.ndarray]:
    """make(0), make(1), ..., make(n - 1), each made in a child process while the caller works
    on the one before. Each array is ``shape`` and ``dtype`` and is only valid until the next
    one is asked for (its buffer is reused). Leaving the loop early stops the child."""
    if "fork" not in multiprocessing.get_all_start_methods():
        for e in range(n):
            yield make(e)
        return
    ctx = multiprocessing.get_context("fork")
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    memory = mmap.mmap(-1, 2 * max(size, 1))  # MAP_SHARED | MAP_ANONYMOUS: seen by the child
    slots = [np.frombuffer(memory, dtype, int(np.prod(shape)), k * size).reshape(shape) for k in (0, 1)]
    free, ready = ctx.Semaphore(2), ctx.Queue()
    child = ctx.Process(target=_fill, args=(make, n, slots, free, ready), daemon=True)
    child.start()
    try:
        for e in range(n):
            _wait(child, ready, e)
            yield slots[e % 2]
            free.release()
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        ready.close()  # the buffers go when the last array viewing them does


def _fill(make, n, slots, free, ready) -> None:
    """The child: epoch e into slot e % 2 once the parent has handed it back."""
    try:
        for e in range(n):
            free.acquire()
            slots[e % 2][...] = make(e)
            ready.put(e)
    except BaseException:
        ready.put(traceback.format_exc())


def _wait(child, ready, e: int) -> None:
    while True:
        try:
            got = ready.get(timeout=WAIT_S)
        except queue.Empty:
            if not child.is_alive():
                raise AheadError(
                    f"the process making epoch {e + 1}'s images died (exit code {child.exitcode})"
                ) from None
            continue
        if got != e:
            raise AheadError(f"making epoch {e + 1}'s images failed:\n{got}")
        return
