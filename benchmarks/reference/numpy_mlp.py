#!/usr/bin/env python3
"""A same-run reference for Crema's benchmarks: the seed net (93-30-9, batch 64) and the wide net
(93-512-512-9, dropout 0.5, batch 256) trained with Caffe's SGD rule in float32 numpy, plus
batch-1 and batch-1024 inference of the wide net. Prints `name value unit` lines."""
import sys
import time

import numpy as np


def make(sizes, rng):
    ws = [(rng.uniform(-1, 1, (o, i)) * np.sqrt(3.0 / i)).astype(np.float32) for i, o in zip(sizes, sizes[1:])]
    bs = [np.zeros(o, np.float32) for o in sizes[1:]]
    return ws, bs


def train_step(ws, bs, vs, x, y, dropout, rng, lr=np.float32(0.01), mu=np.float32(0.9), wd=np.float32(5e-4)):
    acts, masks = [x], []
    h = x
    for k, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w.T + b
        if k < len(ws) - 1:
            h = np.maximum(h, 0)
            if dropout:
                m = (rng.random(h.shape, dtype=np.float32) >= 0.5).astype(np.float32) * 2
                h = h * m
                masks.append(m)
            acts.append(h)
    e = np.exp(h - h.max(1, keepdims=True))
    p = e / e.sum(1, keepdims=True)
    p[np.arange(len(y)), y] -= 1
    g = p / len(y)
    grads = []
    for k in range(len(ws) - 1, -1, -1):
        grads.append((g.T @ acts[k], g.sum(0)))
        if k > 0:
            g = g @ ws[k]
            if dropout:
                g = g * masks[k - 1]
            g = g * (acts[k] > 0)
    grads.reverse()
    params = [q for wb in zip(ws, bs) for q in wb]
    flat = [q for wb in grads for q in wb]
    for q, d, v in zip(params, flat, vs):
        d += wd * q
        v *= mu
        v += lr * d
        q -= v


def rate(fn, seconds=3.0):
    fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def main():
    rng = np.random.default_rng(1)
    for name, sizes, batch, dropout in (("seed", [93, 30, 9], 64, False), ("wide", [93, 512, 512, 9], 256, True)):
        ws, bs = make(sizes, rng)
        vs = [np.zeros_like(q) for wb in zip(ws, bs) for q in wb]
        x = (rng.random((batch, 93)) < 0.2).astype(np.float32) * np.log1p(rng.integers(0, 20, (batch, 93))).astype(np.float32)
        y = rng.integers(0, 9, batch)
        print(f"numpy_train_{name} {rate(lambda: train_step(ws, bs, vs, x, y, dropout, rng)) * batch:.0f} samples/s")
        if name == "wide":
            def infer(xs):
                h = xs
                for k, (w, b) in enumerate(zip(ws, bs)):
                    h = h @ w.T + b
                    if k < len(ws) - 1:
                        h = np.maximum(h, 0)
                e = np.exp(h - h.max(1, keepdims=True))
                return e / e.sum(1, keepdims=True)
            one = x[:1].copy()
            many = np.repeat(x, 4, axis=0)
            print(f"numpy_infer1_wide {1e6 / rate(lambda: infer(one)):.1f} us/call")
            print(f"numpy_infer1024_wide {rate(lambda: infer(many)) * 1024:.0f} samples/s")


if __name__ == "__main__":
    sys.exit(main())
