"""The heart-rate worker process: reads windows of PPG from stdin, writes estimates to stdout.

Started by ``backend.readings.estimating`` as ``python -m backend.readings.estimator_process``.
Each request is one frame (``estimating.REQUEST``: sample count and sampling rate, then the
samples as little-endian float64); each answer is one frame (``estimating.ANSWER`` and the UTF-8
reason), in the order the requests came. The process ends when its stdin closes (the app process
stopped or died); it ignores Ctrl-C, which the terminal sends to the whole process group, so that
the app stops it in its own time.
"""

from __future__ import annotations

import signal
import sys
from typing import BinaryIO

import numpy as np

from backend.readings.estimating import MAX_SAMPLES, READY, REQUEST, encode_answer
from sensors import ppg


def serve(requests: BinaryIO, answers: BinaryIO) -> None:
    """Answer requests until the input ends (a partial frame ends it too)."""
    while True:
        head = requests.read(REQUEST.size)
        if len(head) < REQUEST.size:
            return
        count, fs = REQUEST.unpack(head)
        if count > MAX_SAMPLES:
            answers.write(encode_answer(None, 0.0, f"window of {count} samples is too long", failed=True))
            answers.flush()
            return  # the stream is out of step with its frames: stop rather than misread it
        body = requests.read(8 * count)
        if len(body) < 8 * count:
            return
        try:
            estimate = ppg.estimate_heart_rate(np.frombuffer(body, dtype="<f8"), fs)
        except ValueError as exc:
            answers.write(encode_answer(None, 0.0, str(exc), failed=True))
        else:
            answers.write(encode_answer(estimate.bpm, estimate.quality, estimate.reason))
        answers.flush()


def warm_up() -> bytes:
    """One estimate of a made-up pulse, so that the first real one pays for no lazy loading;
    the answer is the frame that tells the app process this worker is ready."""
    t = np.arange(500) / 50.0
    estimate = ppg.estimate_heart_rate(np.sin(2 * np.pi * 1.2 * t) ** 8, 50.0)
    return encode_answer(estimate.bpm, estimate.quality, READY)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout.buffer.write(warm_up())
    sys.stdout.buffer.flush()
    serve(sys.stdin.buffer, sys.stdout.buffer)


if __name__ == "__main__":
    main()
