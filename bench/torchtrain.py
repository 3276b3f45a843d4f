#!/usr/bin/python3
"""torchtrain.py — issue 11's VGG trained in PyTorch on mkdataset's records
with make-model's recipe, so that libcnn's accuracy has a rival's beside it.

  torchtrain.py DIR STEPS SEED [THREADS]

DIR is a folder mkdataset made (train.bin, test.bin, labels.txt,
dataset.txt).  As facetrain(1) trains with make-model's settings: batches
of 128 drawn epoch by epoch in a shuffled order; a random 32x32 window of
each stored face, a left-right flip half the time, a brightness delta from
[-63, 63], a contrast factor from [0.2, 1.8] about each colour plane's mean,
per-image standardisation; SGD with Nesterov's momentum 0.9 at a rate that
rises linearly to 0.1 over the first 5% of STEPS and falls along a half
cosine to 0; each conv and fc weight (not biases, not batch norm's) shrunk
by rate x 0.005 a step; dropout 0.3.  The test split is judged on the
centre window with the moving average of the weights and of batch norm's
running statistics (decay min(0.9999, (1 + t) / (10 + t)), as libcnn's).
The shuffles and draws are PyTorch's, not libcnn's: the same recipe, not
the same run.  It prints one line:

  known R of N (P%); strangers called other S of M (Q%); all A of T (U%)

(the strangers only when labels.txt has a class "other").
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torchbench import vgg_net  # noqa: E402

BATCH, CROP, LR, WARMUP, DECAY, MOMENTUM = 128, 32, 0.1, 0.05, 5e-3, 0.9


def records(path, side):
    data = open(path, "rb").read()
    size = 1 + 3 * side * side
    if len(data) % size:
        sys.exit(f"torchtrain.py: {path}: {len(data)} bytes is not a whole number of "
                 f"{side}x{side} records")
    t = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(-1, size)
    return t[:, 1:].reshape(-1, 3, side, side), t[:, 0].long()


def standardise(x):
    n = x[0].numel()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    sd = x.std(dim=(1, 2, 3), keepdim=True, unbiased=False).clamp(min=1 / math.sqrt(n))
    return (x - mean) / sd


def distort(x, gen):
    n, side = x.shape[0], x.shape[2]
    off = torch.randint(0, side - CROP + 1, (n, 2), generator=gen)
    out = torch.stack([x[i, :, oy:oy + CROP, ox:ox + CROP]
                       for i, (oy, ox) in enumerate(off.tolist())]).float()
    flip = torch.rand(n, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    out += (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 63
    f = 0.2 + torch.rand(n, 1, 1, 1, generator=gen) * 1.6
    mean = out.mean(dim=(2, 3), keepdim=True)
    return standardise((out - mean) * f + mean)


def rate(t, steps):
    warm = int(WARMUP * steps + 0.5)
    if t < warm:
        return LR * (t + 1) / warm
    return LR * 0.5 * (1 + math.cos(math.pi * (t - warm) / (steps - warm)))


def main(folder, steps, seed, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    side = int(open(os.path.join(folder, "dataset.txt")).read().split()[0].split("=")[1])
    names = open(os.path.join(folder, "labels.txt")).read().split()
    x, y = records(os.path.join(folder, "train.bin"), side)
    tx, ty = records(os.path.join(folder, "test.bin"), side)
    net = vgg_net(0.3, len(names))
    decayed = [m.weight for m in net if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM, nesterov=True)
    ema = {k: v.clone() for k, v in net.state_dict().items()}
    order, at = torch.randperm(len(y), generator=gen), 0
    net.train()
    for t in range(steps):
        idx = []
        while len(idx) < BATCH:
            if at == len(order):
                order, at = torch.randperm(len(y), generator=gen), 0
            take = min(BATCH - len(idx), len(order) - at)
            idx += order[at:at + take].tolist()
            at += take
        lr = rate(t, steps)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        F.cross_entropy(net(distort(x[idx], gen)), y[idx]).backward()
        opt.step()
        with torch.no_grad():
            for w in decayed:
                w.mul_(1 - lr * DECAY)
            d = min(0.9999, (1 + t) / (10 + t))
            for k, v in net.state_dict().items():
                if v.is_floating_point():
                    ema[k].mul_(d).add_(v, alpha=1 - d)
                else:
                    ema[k].copy_(v)
    net.load_state_dict(ema)
    net.eval()
    o = (side - CROP) // 2
    with torch.no_grad():
        pred = torch.cat([net(standardise(tx[i:i + 256, :, o:o + CROP, o:o + CROP].float()))
                          .argmax(1) for i in range(0, len(ty), 256)])
    right = pred == ty
    other = names.index("other") if "other" in names else -1
    known = ty != other
    line = f"known {int(right[known].sum())} of {int(known.sum())} " \
           f"({100 * float(right[known].float().mean()):.1f}%)"
    if other >= 0:
        s = ~known
        line += f"; strangers called other {int(right[s].sum())} of {int(s.sum())} " \
                f"({100 * float(right[s].float().mean()):.1f}%)"
    line += f"; all {int(right.sum())} of {len(ty)} ({100 * float(right.float().mean()):.1f}%)"
    print(line)


USAGE = "usage: torchtrain.py DIR STEPS SEED [THREADS]"

if __name__ == "__main__":
    a = sys.argv
    if len(a) == 2 and a[1] == "-h":
        print(USAGE)
    elif len(a) in (4, 5) and a[2].isdigit() and a[3].isdigit() and (len(a) < 5 or a[4].isdigit()):
        try:
            main(a[1], int(a[2]), int(a[3]), int(a[4]) if len(a) > 4 else 2)
        except (OSError, ValueError, IndexError) as e:
            sys.exit(f"torchtrain.py: {a[1]}: {e}")
    else:
        print(USAGE, file=sys.stderr)
        sys.exit(2)
