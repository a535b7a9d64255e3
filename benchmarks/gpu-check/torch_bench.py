#!/usr/bin/env python3
"""PyTorch's figures for the GPU check: the seed net (93-30-9) and the wide net (93-512-512-9,
dropout 0.5) trained with SGD (momentum 0.9, weight decay 5e-4, lr 0.01) from in-memory float32
rows on the same device, as `crema bench` trains them. Prints one `torch ...` line per run:
    torch_bench.py NET BATCH ITERATIONS [cuda|cpu]"""
import sys
import time

import torch


def net(name):
    if name == "seed":
        return torch.nn.Sequential(torch.nn.Linear(93, 30), torch.nn.ReLU(), torch.nn.Linear(30, 9))
    return torch.nn.Sequential(torch.nn.Linear(93, 512), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                               torch.nn.Linear(512, 512), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                               torch.nn.Linear(512, 9))


def main():
    name, batch, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    device = sys.argv[4] if len(sys.argv) > 4 else "cuda"
    torch.manual_seed(1)
    model = net(name).to(device)
    g = torch.Generator().manual_seed(1)
    x = torch.where(torch.rand(batch, 93, generator=g) < 0.8, torch.zeros(batch, 93),
                    torch.log1p(torch.randint(0, 20, (batch, 93), generator=g).float())).to(device)
    y = torch.randint(0, 9, (batch,), generator=g).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    for _ in range(max(10, iterations // 20)):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(iterations):
        loss = step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"torch net={name} batch={batch} iterations={iterations} device={device} "
          f"({torch.cuda.get_device_name(0) if device == 'cuda' else 'cpu'}, torch {torch.__version__}) "
          f"seconds={seconds:.3f} iterations_per_s={iterations / seconds:.1f} "
          f"samples_per_s={iterations * batch / seconds:.0f} loss={loss.item():.4f}")


if __name__ == "__main__":
    main()
