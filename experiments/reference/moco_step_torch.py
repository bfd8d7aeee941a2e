#!/usr/bin/env python3
"""The step of `scorescope bench step`, written in PyTorch: the reference the issue's speed target is set against.

One MoCo v2 iteration of the default model on random inputs, the same work as scorescope's benchmark:
convnet-s (conv3x3 1-32 s1, 32-64 s2, 64-128 s2, 128-256 s2, each BN + ReLU, no conv bias; global average pool)
with the MLP head (256-256 ReLU 128), split BN with 8 groups in both encoders (the SplitBatchNorm of the MoCo
authors' CIFAR demo), a seeded shuffle of the key batch, B 256, K 4096, tau 0.2, InfoNCE, backward, global
gradient norm, SGD (momentum 0.9, weight decay 5e-4), EMA of the key encoder, enqueue, and the recorder's work:
200-bin histograms of the 256 positive and 256 x 4096 negative scores with their moments in float64.
Not here: SQLite (scorescope's store transaction is ~0.5 ms of its step).

Prints one JSON line like scorescope's: median wall and CPU milliseconds per iteration over --repeats
iterations after --warmup. Needs PyTorch (pip install torch); not used by the tests.

    python3 experiments/reference/moco_step_torch.py --threads 2
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class SplitBatchNorm(nn.BatchNorm2d):
    """BN over G groups of the batch (the MoCo CIFAR demo's stand-in for shuffle-BN across GPUs)."""

    def __init__(self, channels, splits):
        super().__init__(channels)
        self.splits = splits

    def forward(self, x):
        n, c, h, w = x.shape
        mean = self.running_mean.repeat(self.splits)
        var = self.running_var.repeat(self.splits)
        out = F.batch_norm(x.reshape(-1, c * self.splits, h, w), mean, var,
                           self.weight.repeat(self.splits), self.bias.repeat(self.splits),
                           True, self.momentum, self.eps).reshape(n, c, h, w)
        self.running_mean.data.copy_(mean.view(self.splits, c).mean(dim=0))
        self.running_var.data.copy_(var.view(self.splits, c).mean(dim=0))
        return out


def encoder(splits, widths=(32, 64, 128, 256), dim=128):
    layers, c = [], 1
    for i, w in enumerate(widths):
        layers += [nn.Conv2d(c, w, 3, stride=1 if i == 0 else 2, padding=1, bias=False),
                   SplitBatchNorm(w, splits), nn.ReLU(inplace=True)]
        c = w
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, c), nn.ReLU(inplace=True), nn.Linear(c, dim)]
    return nn.Sequential(*layers)


def histogram_and_moments(scores, bins=200):
    hist = torch.histc(scores, bins=bins, min=-1.0, max=1.0)
    s = scores.double()
    return hist, s.sum(), (s * s).sum(), s.min(), s.max()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--queue", type=int, default=4096)
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--channels-last", action="store_true", help="run the encoders in channels-last memory format")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(11)

    fq, fk = encoder(a.groups), encoder(a.groups)
    fk.load_state_dict(fq.state_dict())
    for q in fk.parameters():
        q.requires_grad = False
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    fq, fk = fq.to(memory_format=fmt), fk.to(memory_format=fmt)
    opt = torch.optim.SGD(fq.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    queue = F.normalize(torch.randn(a.queue, 128), dim=1)
    ptr = 0
    im_q = torch.randn(a.batch, 1, 28, 28).to(memory_format=fmt)
    im_k = torch.randn(a.batch, 1, 28, 28).to(memory_format=fmt)
    labels = torch.zeros(a.batch, dtype=torch.long)

    walls, cpus = [], []
    for it in range(a.warmup + a.repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            idx = torch.randperm(a.batch)
            k = F.normalize(fk(im_k[idx]), dim=1)
            k = k[torch.argsort(idx)]
        q = F.normalize(fq(im_q), dim=1)
        l_pos = (q * k).sum(dim=1, keepdim=True)
        l_neg = q @ queue.t()
        logits = torch.cat([l_pos, l_neg], dim=1) / 0.2
        loss = F.cross_entropy(logits, labels)
        accuracy = (logits.argmax(dim=1) == 0).double().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.sqrt(sum((g.grad.double() ** 2).sum() for g in fq.parameters()))
        opt.step()
        with torch.no_grad():
            for pk, pq in zip(fk.parameters(), fq.parameters()):
                pk.mul_(0.99).add_(pq, alpha=0.01)
            queue[ptr:ptr + a.batch] = k
            ptr = (ptr + a.batch) % a.queue
            pos = histogram_and_moments(l_pos.detach().flatten())
            neg = histogram_and_moments(l_neg.detach().flatten())
            neg_var_per_query = l_neg.double().var(dim=1, unbiased=False).mean()
        float(loss.detach()), float(accuracy), float(grad_norm), float(neg_var_per_query), float(pos[1]), float(neg[1])
        w1, c1 = time.perf_counter(), time.process_time()
        if it >= a.warmup:
            walls.append((w1 - w0) * 1e3)
            cpus.append((c1 - c0) * 1e3)
    print(json.dumps({"bench": "moco_step_torch", "batch": a.batch, "queue": a.queue,
                      "ms_per_iter": round(statistics.median(walls), 2), "min_ms": round(min(walls), 2),
                      "cpu_ms_per_iter": round(statistics.median(cpus), 2), "threads": a.threads,
                      "channels_last": a.channels_last, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
