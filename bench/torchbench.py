#!/usr/bin/python3
"""torchbench.py — the TensorFlow CIFAR-10 tutorial network, or a small VGG
with batch norm, in PyTorch, the rival of libcnn in bench/train.

  torchbench.py speed THREADS [STEPS [NET]]
                                        time it once, print lines as
                                        bench/cnnbench.c -c does: train_Tthr
                                        IMG/S (STEPS steps, default 3),
                                        infer1_Tthr MS (median of 50),
                                        infer128_Tthr IMG/S (3 batches), and
                                        each again in CPU time (_cpu)
  torchbench.py same LIBCNN_SO [NET]    check that libcnn (a shared build,
                                        driven through ctypes) is the same
                                        network: parameter count, logits,
                                        loss and one SGD step from the same
                                        weights, passed over in a model file
                                        read as cnnmodel(5) says
  torchbench.py spec NET                print NET's libcnn spec

NET is "tutorial" (the default) or "vgg":

The network: conv 5x5 3->64, max pool 3/2, LRN, conv 5x5 64->64, LRN,
max pool 3/2, fc 384, fc 192, fc 6; ReLU after all but the last; batch 128
of 3x32x32; plain SGD with the tutorial's L2 decay on fc 384 and fc 192.
TensorFlow's SAME padding: the 5x5 convs pad 2 on each side; a 3/2 pool on
32 (or 16) rows pads 1 at the bottom and right only, with -inf so padding
never wins (32 -> 16 -> 8).  TensorFlow's LRN divides by
(1 + alpha*sum)^beta with alpha = 0.001/9 over 9 channels; PyTorch's
LocalResponseNorm divides alpha by the window size, so it gets 0.001.

The VGG (issue 11's): 3x3 convolutions of 32-32-64-64-128-128 filters,
each followed by batch norm and ReLU, a 2x2 max pool after each pair,
global average pooling, dropout 0.3, fc 6; no weight decay.  For the
step of "same" both take dropout 0 (their random masks differ), and the
running statistics after the step are compared too.
"""
import copy
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


VGG_SPEC = ("conv 3 32 relu=0; bn; conv 3 32 relu=0; bn; pool 2 2; "
            "conv 3 64 relu=0; bn; conv 3 64 relu=0; bn; pool 2 2; "
            "conv 3 128 relu=0; bn; conv 3 128 relu=0; bn; pool 2 2; "
            "gap; dropout %s; fc N")


def vgg_net(p=0.3, nclass=NCLASS):
    layers, c = [], C
    for i, f in enumerate((32, 32, 64, 64, 128, 128)):
        layers += [nn.Conv2d(c, f, 3, padding=1), nn.BatchNorm2d(f), nn.ReLU()]
        if i % 2:
            layers.append(nn.MaxPool2d(2))
        c = f
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(p),
                         nn.Linear(c, nclass))


NETS = {"tutorial": (tutorial_net, None), "vgg": (vgg_net, VGG_SPEC)}


def decayed(net):
    """the weights that take L2 decay: fc 384's and fc 192's (none in the VGG)"""
    if isinstance(net[1], nn.BatchNorm2d):
        return []
    return [net[9].weight, net[11].weight]


def loss_of(net, x, y, smoothing=0.0):
    return (F.cross_entropy(net(x), y, label_smoothing=smoothing)
            + WD * sum((w * w).sum() for w in decayed(net)) / 2)


def speed(threads, steps, name):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = NETS[name][0]()
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
    version, = struct.unpack_from("<I", b, 8)
    if b[:8] != b"\x89CNN\r\n\x1a\n" or version not in (1, 2, 3, 4):
        sys.exit("torchbench: not a version 1 to 4 cnnmodel")
    length, = struct.unpack_from("<Q", b, 12)
    if length != len(b) or zlib.crc32(b[:-4]) != struct.unpack_from("<I", b, len(b) - 4)[0]:
        sys.exit("torchbench: bad length or CRC")
    at = 52
    for _ in range(3 if version >= 3 else 2):   # spec, prep, settings
        at += 4 + struct.unpack_from("<I", b, at)[0]
    nnames, = struct.unpack_from("<I", b, at)
    at += 4
    for _ in range(nnames):
        at += 4 + struct.unpack_from("<I", b, at)[0]
    _opt, _nstate, nparams = struct.unpack_from("<IQQ", b, at)
    at += 20                                    # the velocity, if any, follows the weights
    return torch.frombuffer(bytearray(b[at:at + 4 * nparams]), dtype=torch.float32)


def same(so, name):
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
                    ("ema_decay", ctypes.c_float), ("schedule", ctypes.c_int), ("steps", ctypes.c_long),
                    ("warmup", ctypes.c_float), ("momentum", ctypes.c_float), ("nesterov", ctypes.c_int),
                    ("decoupled_decay", ctypes.c_float), ("smoothing", ctypes.c_float)]

    lib.cnn__state.restype = ctypes.POINTER(ctypes.c_float)
    lib.cnn__state.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_long)]

    err = ctypes.create_string_buffer(256)
    make, spec = NETS[name]
    # the step's dropout is 0 on both sides: their masks could not agree
    cspec = spec % "0" if spec else None
    cnet = lib.cnn_new(cspec.encode() if cspec else None, C, H, W, NCLASS, 7, err)
    if not cnet:
        sys.exit("torchbench: cnn_new: " + err.value.decode())
    torch.manual_seed(1)
    net = make(0) if spec else make()
    net.eval()
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
    net.train()
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
    if spec:
        ns = ctypes.c_long()
        st = lib.cnn__state(cnet, 0, ctypes.byref(ns))
        cst = torch.tensor([st[i] for i in range(ns.value)])
        bns = [m for m in net if isinstance(m, nn.BatchNorm2d)]
        tst = torch.cat([t for m in bns for t in (m.running_mean, m.running_var)])
        diff = (cst - tst).abs().max().item()
        check(ns.value == tst.numel() and diff <= 1e-5 * tst.abs().max().item(),
              f"batch norm's running statistics after the step: {ns.value} values, max difference {diff:.2e}")
        net.eval()
        if lib.cnn_forward(cnet, xp, BATCH, 0, ctypes.cast(logits.data_ptr(), fp), err):
            sys.exit("torchbench: cnn_forward: " + err.value.decode())
        with torch.no_grad():
            want = net(x)
        diff = (logits - want).abs().max().item()
        scale = want.abs().max().item()
        check(diff <= 1e-3 * scale,
              f"inference logits with the running statistics: max difference {diff:.2e} (largest {scale:.2e})")
    # from the same weights, two steps with Nesterov's momentum and label
    # smoothing: PyTorch's SGD(momentum, nesterov) and cross_entropy's
    # label_smoothing are the same updates.  The reference is PyTorch in
    # float64: with batch norm two steps in float32 drift from it by as
    # much as their own error (PyTorch's float32 run as well), so libcnn
    # must be as close to it as that run, or within 1e-3 of the change.
    with torch.no_grad():
        at = 0
        for p in params:
            p.copy_(flat[at:at + p.numel()].view_as(p))
            at += p.numel()
    before = flat.clone()
    net.train()
    net64 = copy.deepcopy(net).double()
    opts = Opts(BATCH, 0.05, 0.1, 0, WD, 0.9999, 0, 0, 0.0, 0.9, 1, 0.0, 0.1)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    opt64 = torch.optim.SGD(net64.parameters(), lr=0.05, momentum=0.9, nesterov=True)
    for _ in range(2):
        if lib.cnn_train_step(cnet, ctypes.byref(opts), xp,
                              ctypes.cast(yi.data_ptr(), ctypes.POINTER(ctypes.c_int)),
                              BATCH, ctypes.byref(closs), err):
            sys.exit("torchbench: cnn_train_step: " + err.value.decode())
        for m, o, xx in ((net, opt, x), (net64, opt64, x.double())):
            o.zero_grad()
            loss = loss_of(m, xx, y, 0.1)
            loss.backward()
            o.step()
    check(abs(closs.value - loss.item()) <= 1e-5 * abs(loss.item()),
          f"second step's loss with smoothing 0.1: libcnn {closs.value:.6f}, PyTorch {loss.item():.6f}")
    with torch.no_grad():
        ref = torch.cat([p.reshape(-1) for p in net64.parameters()])
        theirs = (torch.cat([p.reshape(-1) for p in params]).double() - ref).abs().max().item()
        diff = (flat.double() - ref).abs().max().item()
        moved = (flat - before).abs().max().item()
    check(moved > 0 and diff <= max(1e-3 * moved, 2 * theirs),
          f"weights after two steps with Nesterov's momentum 0.9: max difference from float64 "
          f"{diff:.2e} (PyTorch's float32 {theirs:.2e}), largest change {moved:.2e}")
    lib.cnn_free(cnet)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    a = sys.argv
    if 3 <= len(a) <= 5 and a[1] == "speed" and (len(a) < 5 or a[4] in NETS):
        speed(int(a[2]), int(a[3]) if len(a) > 3 else 3, a[4] if len(a) > 4 else "tutorial")
    elif 3 <= len(a) <= 4 and a[1] == "same" and (len(a) < 4 or a[3] in NETS):
        same(a[2], a[3] if len(a) > 3 else "tutorial")
    elif len(a) == 3 and a[1] == "spec" and NETS.get(a[2], (0, 0))[1]:
        print(NETS[a[2]][1] % "0.3")
    else:
        sys.exit("usage: torchbench.py speed THREADS [STEPS [tutorial|vgg]] | "
                 "same LIBCNN_SO [tutorial|vgg] | spec vgg")
