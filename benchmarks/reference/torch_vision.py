#!/usr/bin/env python3
"""PyTorch on Caffe's vision nets, measured in the same run as Crema's VisionBenchmark (run.sh).

One thread (torch.set_num_threads(1); run.sh also sets OPENBLAS_NUM_THREADS=1). What is timed is
what `caffe time` and VisionBenchmark time: one forward and one backward pass of the TRAIN net
(loss included, no solver update), on one batch held in memory: inputs uniform in [0, 1), labels
uniform over the 10 classes. Parameter gradients accumulate from pass to pass, as Caffe's do under
`caffe time`; the input needs no gradient, so the first convolution computes only its weights'.

  torch_fb_lenet           ms/iter: Caffe's LeNet (examples/mnist/lenet_train_test.prototxt),
      batch 64: conv 20 5x5, max pool 2/2, conv 50 5x5, max pool 2/2, ip 500, ReLU, ip 10,
      softmax loss.
  torch_fb_cifar10_quick   ms/iter: CIFAR-10 quick (examples/model-zoo/cifar10_quick_input.prototxt),
      batch 100: conv 32 5x5 pad 2, max pool 3/2, ReLU, conv 32 5x5 pad 2, ReLU, ave pool 3/2,
      conv 64 5x5 pad 2, ReLU, ave pool 3/2, ip 64, ip 10, softmax loss. Pooling rounds its output
      size up, as Caffe's does (ceil_mode=True): 32 -> 16 -> 8 -> 4.

Each figure is the mean over as many passes as fit in TORCH_BENCH_SECONDS (default 5) after a
warm-up of 2 seconds."""
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SECONDS = float(os.environ.get("TORCH_BENCH_SECONDS", "5"))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10))


def cifar10_quick():
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(3, 2, ceil_mode=True), nn.ReLU(inplace=True),
        nn.Conv2d(32, 32, 5, padding=2), nn.ReLU(inplace=True), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(inplace=True), nn.AvgPool2d(3, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10))


def forward_backward_ms(model, batch, shape):
    g = torch.Generator().manual_seed(1)
    x = torch.rand((batch,) + shape, generator=g)
    y = torch.randint(0, 10, (batch,), generator=g)

    def step():
        F.cross_entropy(model(x), y).backward()

    end = time.perf_counter() + 2
    while time.perf_counter() < end:
        step()
    n = 0
    start = time.perf_counter()
    while True:
        step()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= SECONDS:
            return elapsed * 1000 / n


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    print(f"torch_fb_lenet {forward_backward_ms(lenet(), 64, (1, 28, 28)):.4f} ms/iter")
    print(f"torch_fb_cifar10_quick {forward_backward_ms(cifar10_quick(), 100, (3, 32, 32)):.4f} ms/iter")


if __name__ == "__main__":
    main()
