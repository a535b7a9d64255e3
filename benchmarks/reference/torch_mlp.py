#!/usr/bin/env python3
"""PyTorch on the nets and data of Crema's benchmarks, measured in the same run as Crema (run.sh).

One thread (torch.set_num_threads(1); run.sh also sets OPENBLAS_NUM_THREADS=1). Prints
`name value unit` lines that run.sh's table reads:

  torch_train_seed / torch_train_wide   samples/s: one SGD step (forward, backward, update) of the
      seed net 93-30-9 at batch 64 and the wide net 93-512-512-9 (dropout 0.5) at batch 256, on one
      batch held in memory, as TrainBenchmark steps Crema's solver. The solver is the prototxts':
      SGD, momentum 0.9, weight decay 5e-4, lr 0.01 with the "inv" policy (gamma 1e-4, power 0.75)
      set before every step.
  torch_infer1_seed / torch_infer1_wide   us/call: a deploy net (..., Softmax) on one row, no grad.
  torch_infer1024_wide   samples/s: the same at batch 1024.
  torch_e2e_otto_mini   iter/s: the e2e run of run.sh (seed net, batch 64, the same 30,000
      iterations and solver) on the otto-mini training rows. PyTorch reads them from
      fixtures/otto-mini/data/train.csv (the rows the LMDB holds, log1p computed as the LMDB's
      float_data was) into memory once, inside the timed span, then walks them in order, 64 at a
      time, wrapping as Caffe's cursor does. Crema decodes the LMDB's Datums as it trains.

  torch_blas   which BLAS library the process has mapped (run.sh picks it with LD_LIBRARY_PATH).

The inputs are generated as InferenceBenchmark and TrainBenchmark generate theirs: 93 features,
80% zeros, the rest log1p of a count below 20; values do not change the cost of dense layers."""
import os
import sys
import time

import torch

SECONDS = float(os.environ.get("TORCH_BENCH_SECONDS", "3"))


def net(name, deploy=False):
    layers = [torch.nn.Linear(93, 30), torch.nn.ReLU(), torch.nn.Linear(30, 9)] if name == "seed" else [
        torch.nn.Linear(93, 512), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.5),
        torch.nn.Linear(512, 9)]
    if deploy:
        layers.append(torch.nn.Softmax(dim=1))
    return torch.nn.Sequential(*layers)


def rows(n, g):
    zero = torch.rand(n, 93, generator=g) < 0.8
    return torch.where(zero, torch.zeros(n, 93), torch.log1p(torch.randint(0, 20, (n, 93), generator=g).float()))


class Trainer:
    """Caffe's solver schedule on torch.optim.SGD: lr = base_lr * (1 + gamma * iter) ^ -power."""

    def __init__(self, model):
        self.model = model
        self.opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        self.loss = torch.nn.CrossEntropyLoss()
        self.iter = 0

    def step(self, x, y):
        for group in self.opt.param_groups:
            group["lr"] = 0.01 * (1 + 1e-4 * self.iter) ** -0.75
        self.opt.zero_grad(set_to_none=True)
        loss = self.loss(self.model(x), y)
        loss.backward()
        self.opt.step()
        self.iter += 1
        return loss


def rate(fn, seconds=SECONDS):
    """Calls per second of fn over `seconds`, after a second of warm-up."""
    start = time.perf_counter()
    while time.perf_counter() - start < min(1.0, seconds):
        fn()
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return n / (time.perf_counter() - start)


def e2e(csv, iterations):
    """The otto-mini run: load the rows (timed), then `iterations` steps of batch 64 in order."""
    start = time.perf_counter()
    feats, labels = [], []
    with open(csv) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split(",")
            feats.append([float(v) for v in cols[1:94]])
            labels.append(int(cols[94].rsplit("_", 1)[1]) - 1)
    # float_data = (float32) ln(count + 1) computed in double, as the LMDB was written.
    x = torch.log1p(torch.tensor(feats, dtype=torch.float64)).float()
    y = torch.tensor(labels)
    torch.manual_seed(1)
    t = Trainer(net("seed"))
    n, pos = len(y), 0
    for _ in range(iterations):
        if pos + 64 <= n:
            xb, yb = x[pos:pos + 64], y[pos:pos + 64]
        else:
            idx = torch.arange(pos, pos + 64) % n
            xb, yb = x[idx], y[idx]
        pos = (pos + 64) % n
        t.step(xb, yb)
    return iterations / (time.perf_counter() - start)


def blas():
    """The BLAS library mapped into this process (after a matrix product has run)."""
    torch.ones(8, 8) @ torch.ones(8, 8)
    with open("/proc/self/maps") as f:
        libs = {l.split()[-1] for l in f if "/" in l}
    found = sorted(p for p in libs if os.path.basename(p).startswith(("libopenblas", "libblas", "libmkl")))
    return ",".join(found) if found else "unknown"


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(2)
    print(f"torch_version {torch.__version__} -")
    print(f"torch_blas {blas()} -")
    for name, batch in (("seed", 64), ("wide", 256)):
        t = Trainer(net(name))
        x, y = rows(batch, g), torch.randint(0, 9, (batch,), generator=g)
        print(f"torch_train_{name} {rate(lambda: t.step(x, y)) * batch:.0f} samples/s", flush=True)
    with torch.inference_mode():
        for name in ("seed", "wide"):
            m = net(name, deploy=True).eval()
            one = rows(1, g)
            print(f"torch_infer1_{name} {1e6 / rate(lambda: m(one)):.2f} us/call", flush=True)
            if name == "wide":
                many = rows(1024, g)
                print(f"torch_infer1024_wide {rate(lambda: m(many)) * 1024:.0f} samples/s", flush=True)
    if len(sys.argv) > 2:
        print(f"torch_e2e_otto_mini {e2e(sys.argv[1], int(sys.argv[2])):.0f} iter/s", flush=True)


if __name__ == "__main__":
    sys.exit(main())
