#!/usr/bin/python3
"""torchbench.py — the TensorFlow CIFAR-10 tutorial network in PyTorch, the
rival of libcnn in bench/train.

  torchbench.py speed THREADS [STEPS]   time it once, print lines as
                                        bench/cnnbench.c -c does: train_Tthr
                                        IMG/S (STEPS steps, default 3),
                                        infer1_Tthr MS (median of 50),
                                        infer128_Tthr IMG/S (3 batches), and
                                        each again in CPU time (_cpu)
  torchbench.py same LIBCNN_SO          check that libcnn (a shared build,
                                        driven through ctypes) is the same
                                        network: parameter count, logits,
                                        loss and one SGD step from the same
                                        weights, passed over in a model file
                                        read as cnnmodel(5) says

The network: conv 5x5 3->64, max pool 3/2, LRN, conv 5x5 64->64, LRN,
max pool 3/2, fc 384, fc 192, fc 6; ReLU after all but the last; batch 128
of 3x32x32; plain SGD with the tutorial's L2 decay on fc 384 and fc 192.
TensorFlow's SAME padding: the 5x5 convs pad 2 on each side; a 3/2 pool on
32 (or 16) rows pads 1 at the bottom and right only, with -inf so padding
never wins (32 -> 16 -> 8).  TensorFlow's LRN divides by
(1 + alpha*sum)^beta with alpha = 0.001/9 over 9 channels; PyTorch's
LocalResponseNorm divides alpha by the window size, so it gets 0.001.
"""
import ctypes
import os
import statistics
import struct
import sys
import tempfile
import time
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

NCLASS, BATCH, C, H, W = 6, 128, 3, 32, 32
WD = 0.004


class SamePool(nn.Module):
    """max pool 3/2 with TensorFlow SAME padding for even sizes"""

    def forward(self, x):
        return F.max_pool2d(F.pad(x, (0, 1, 0, 1), value=float("-inf")), 3, 2)


def tutorial_net():
    lrn = lambda: nn.LocalResponseNorm(size=9, alpha=0.001, beta=0.75, k=1.0)
    return nn.Sequential(
        nn.Conv2d(3, 64, 5, padding=2), nn.ReLU(), SamePool(), lrn(),
        nn.Conv2d(64, 64, 5, padding=2), nn.ReLU(), lrn(), SamePool(),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 384), nn.ReLU(),
        nn.Linear(384, 192), nn.ReLU(),
        nn.Linear(192, NCLASS))


def decayed(net):
    """the weights that take L2 decay: fc 384's and fc 192's"""
    return [net[9].weight, net[11].weight]


def loss_of(net, x, y):
    return F.cross_entropy(net(x), y) + WD * sum((w * w).sum() for w in decayed(net)) / 2


def speed(threads, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = tutorial_net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01)
    x = torch.randn(BATCH, C, H, W)
    y = torch.randint(0, NCLASS, (BATCH,))

    def step():
        opt.zero_grad()
        loss_of(net, x, y).backward()
        opt.step()

    def clocks():
        return time.perf_counter(), time.process_time()

    def since(t0):
        t1 = clocks()
        return t1[0] - t0[0], t1[1] - t0[1]

    step()                                  # warm-up
    t = clocks()
    for _ in range(steps):
        step()
    train = [steps * BATCH / d for d in since(t)]

    net.eval()
    with torch.no_grad():
        for _ in range(5):
            net(x[:1])
        times = []
        for i in range(50):
            t = clocks()
            net(x[i:i + 1])
            times.append(since(t))
        single = [statistics.median(d[k] for d in times) * 1e3 for k in (0, 1)]
        net(x)
        t = clocks()
        for _ in range(3):
            net(x)
        batch = [3 * BATCH / d for d in since(t)]
    for k, suffix in enumerate(("", "_cpu")):
        print(f"train_{threads}thr{suffix} {train[k]:.1f}")
        print(f"infer1_{threads}thr{suffix} {single[k]:.3f}")
        print(f"infer128_{threads}thr{suffix} {batch[k]:.1f}")


def read_model(path):
    """the raw weights of a model file, per cnnmodel(5)"""
    b = open(path, "rb").read()
    if b[:8] != b"\x89CNN\r\n\x1a\n" or struct.unpack_from("<I", b, 8)[0] not in (1, 2):
        sys.exit("torchbench: not a version 1 or 2 cnnmodel")
    length, = struct.unpack_from("<Q", b, 12)
    if length != len(b) or zlib.crc32(b[:-4]) != struct.unpack_from("<I", b, len(b) - 4)[0]:
        sys.exit("torchbench: bad length or CRC")
    at = 52
    for _ in range(2):                          # spec, prep
        at += 4 + struct.unpack_from("<I", b, at)[0]
    nnames, = struct.unpack_from("<I", b, at)
    at += 4
    for _ in range(nnames):
        at += 4 + struct.unpack_from("<I", b, at)[0]
    _opt, _nstate, nparams = struct.unpack_from("<IQQ", b, at)
    at += 20
    return torch.frombuffer(bytearray(b[at:at + 4 * nparams]), dtype=torch.float32)


def same(so):
    """libcnn and this PyTorch net: the same function and the same step"""
    lib = ctypes.CDLL(so)
    lib.cnn_new.restype = ctypes.c_void_p
    lib.cnn_new.argtypes = [ctypes.c_char_p] + [ctypes.c_int] * 4 + [ctypes.c_uint64, ctypes.c_char_p]
    lib.cnn_nparams.restype = ctypes.c_long
    lib.cnn_nparams.argtypes = [ctypes.c_void_p]
    lib.cnn__params.restype = ctypes.POINTER(ctypes.c_float)
    lib.cnn__params.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_long)]
    fp = ctypes.POINTER(ctypes.c_float)
    lib.cnn_forward.argtypes = [ctypes.c_void_p, fp, ctypes.c_int, ctypes.c_int, fp, ctypes.c_char_p]
    lib.cnn_train_step.argtypes = [ctypes.c_void_p, ctypes.c_void_p, fp, ctypes.POINTER(ctypes.c_int),
                                   ctypes.c_int, fp, ctypes.c_char_p]
    lib.cnn_free.argtypes = [ctypes.c_void_p]
    lib.cnn_save.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]

    class Opts(ctypes.Structure):
        _fields_ = [("batch", ctypes.c_int), ("lr", ctypes.c_float), ("lr_decay", ctypes.c_float),
                    ("decay_steps", ctypes.c_long), ("weight_decay", ctypes.c_float),
                    ("ema_decay", ctypes.c_float)]

    err = ctypes.create_string_buffer(256)
    cnet = lib.cnn_new(None, C, H, W, NCLASS, 7, err)
    if not cnet:
        sys.exit("torchbench: cnn_new: " + err.value.decode())
    torch.manual_seed(1)
    net = tutorial_net()
    n = ctypes.c_long()
    blob = lib.cnn__params(cnet, 0, ctypes.byref(n))
    ntorch = sum(p.numel() for p in net.parameters())
    ok = True

    def check(cond, what):
        nonlocal ok
        ok &= cond
        print(("ok   " if cond else "FAIL ") + what)

    check(n.value == ntorch, f"parameter count: libcnn {n.value}, PyTorch {ntorch}")
    # the weights go over through a model file, read as cnnmodel(5) says:
    # each layer's weights then biases, in the spec's order, with the same
    # index order as PyTorch's tensors
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "same.model").encode()
        if lib.cnn_save(ctypes.c_void_p(cnet), path, err):
            sys.exit("torchbench: cnn_save: " + err.value.decode())
        raw = read_model(path)
    flat = torch.frombuffer(
        (ctypes.c_float * n.value).from_address(ctypes.addressof(blob.contents)),
        dtype=torch.float32)
    check(torch.equal(raw, flat), "raw weights read from the model file equal libcnn's")
    params = [p for p in net.parameters()]
    with torch.no_grad():
        at = 0
        for p in params:
            p.copy_(raw[at:at + p.numel()].view_as(p))
            at += p.numel()

    torch.manual_seed(2)
    x = torch.randn(BATCH, C, H, W)
    y = torch.randint(0, NCLASS, (BATCH,))
    xp = ctypes.cast(x.data_ptr(), fp)
    logits = torch.empty(BATCH, NCLASS)
    if lib.cnn_forward(cnet, xp, BATCH, 0, ctypes.cast(logits.data_ptr(), fp), err):
        sys.exit("torchbench: cnn_forward: " + err.value.decode())
    with torch.no_grad():
        want = net(x)
    diff = (logits - want).abs().max().item()
    scale = want.abs().max().item()
    check(diff <= 1e-4 * scale, f"logits of 128 images: max difference {diff:.2e} (largest {scale:.2e})")

    opts = Opts(BATCH, 0.1, 0.1, 0, WD, 0.9999)
    closs = ctypes.c_float()
    yi = y.to(torch.int32)
    before = flat.clone()
    if lib.cnn_train_step(cnet, ctypes.byref(opts), xp, ctypes.cast(yi.data_ptr(), ctypes.POINTER(ctypes.c_int)),
                          BATCH, ctypes.byref(closs), err):
        sys.exit("torchbench: cnn_train_step: " + err.value.decode())
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    opt.zero_grad()
    loss = loss_of(net, x, y)
    loss.backward()
    opt.step()
    check(abs(closs.value - loss.item()) <= 1e-5 * abs(loss.item()),
          f"loss with weight decay: libcnn {closs.value:.6f}, PyTorch {loss.item():.6f}")
    # flat views libcnn's blob, now after libcnn's step
    with torch.no_grad():
        after = torch.cat([p.reshape(-1) for p in params])
        diff = (after - flat).abs().max().item()
        moved = (flat - before).abs().max().item()
    check(moved > 0 and diff <= 1e-3 * moved,
          f"weights after one SGD step (lr 0.1): max difference {diff:.2e}, largest change {moved:.2e}")
    lib.cnn_free(cnet)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "speed":
        speed(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 3)
    elif len(sys.argv) == 3 and sys.argv[1] == "same":
        same(sys.argv[2])
    else:
        sys.exit("usage: torchbench.py speed THREADS [STEPS] | same LIBCNN_SO")
