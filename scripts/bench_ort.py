"""Median latency of onnxruntime on a model: the peer that `make bench` compares this runtime against.

Same protocol as `cema bench`: random inputs in [0, 1), warm-up runs, then the median of timed runs.
"""
import argparse
import os
import statistics
import time

import numpy as np
import onnxruntime as ort


def resident_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--threads", type=int, default=0, help="intra-op threads (0: all cores)")
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--memory", action="store_true",
                   help="print 'FILE_BYTES RSS_DELTA' instead: the model file's size and the process RSS growth "
                        "over creating the session and one run")
    args = p.parse_args()

    rss_before = resident_bytes()
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    feeds = {}
    for i in session.get_inputs():
        shape = [args.batch if (j == 0 or not isinstance(d, int)) else d for j, d in enumerate(i.shape)]
        feeds[i.name] = rng.random(shape, dtype=np.float32)
    if args.memory:
        session.run(None, feeds)
        print(f"{os.path.getsize(args.model)} {resident_bytes() - rss_before}")
        return
    for _ in range(args.warmup):
        session.run(None, feeds)
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    print(f"{statistics.median(times):.4f}")


if __name__ == "__main__":
    main()
