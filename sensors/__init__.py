"""Pure sensor library: BLE payload decoding, PPG heart-rate estimation, fingertip-camera PPG,
the phone wire format (ReadingBatch v1) and a deterministic stream simulator.

This package never imports ``backend``; ``backend.readings`` may import it.
"""
