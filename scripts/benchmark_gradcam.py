"""Benchmark this project's GradCAM (cam/) against pytorch-grad-cam's GradCAM, same run, on CPU.

Same model (torchvision ResNet-18 with a 5-way head, random weights, seed 0, eval mode), same
batch (64 x 3 x 48 x 64, seed 0), same per-image targets, target layer ``layer2[-1]``.

Speed: after warm-up calls, each repeat times one call of each implementation (alternating
order); throughput is batch / median time, the goal ours / reference >= 2.5 (issue #16).

Memory (Linux only): each implementation runs in a fresh subprocess; after two warm-up calls the
peak-RSS counter is reset (``/proc/self/clear_refs``) and peak RSS (``VmHWM``) minus the RSS
before one call is recorded, median of ``--memory-calls`` calls. glibc's mmap threshold is
pinned to 128 KiB so that freed large buffers leave RSS.

Examples:
    python scripts/benchmark_gradcam.py
    python scripts/benchmark_gradcam.py --repeats 11 --warmup 3 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from pytorch_grad_cam import GradCAM as ReferenceGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from tqdm import tqdm

from cam import GradCAM
from classifier import build_classifier, default_target_layer
from common.cli import positive_int, run

IMPLEMENTATIONS = ("ours", "reference")
SPEED_GOAL = 2.5  # ours / reference images/s, issue #16
CLEAR_REFS = Path("/proc/self/clear_refs")
STATUS = Path("/proc/self/status")


def build_inputs(batch: int, height: int, width: int, seed: int):
    """Model (eval), normalized-like batch (B, 3, H, W) and targets (B,) ints, all seeded."""
    torch.manual_seed(seed)
    model = build_classifier(imagenet_weights=False).eval()
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, height, width, generator=generator)
    targets = torch.randint(0, 5, (batch,), generator=generator).tolist()
    return model, images, targets


def make_runner(name: str, model, images, targets) -> Callable[[], np.ndarray]:
    """A zero-argument callable computing the (B, H, W) maps (it holds the CAM and its hooks)."""
    layer = default_target_layer(model)
    if name == "ours":
        ours = GradCAM(model, [layer])
        return lambda: ours(images, targets)
    reference = ReferenceGradCAM(model, [layer])
    wrapped = [ClassifierOutputTarget(t) for t in targets]
    return lambda: reference(images, wrapped)


def _kib(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", STATUS.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{field} not found in {STATUS}")
    return int(match.group(1))


def memory_probe(args: argparse.Namespace) -> None:
    """Subprocess body: print JSON with the peak RSS growth (KiB) of each measured call."""
    model, images, targets = build_inputs(args.batch, args.height, args.width, args.seed)
    call = make_runner(args.memory_probe, model, images, targets)
    call()
    call()
    peaks = []
    for _ in range(args.memory_calls):
        before = _kib("VmRSS")
        CLEAR_REFS.write_text("5")  # reset VmHWM to the current RSS
        call()
        peaks.append(_kib("VmHWM") - before)
    print(json.dumps({"peak_rss_growth_kib": peaks}))


def measure_memory(name: str, args: argparse.Namespace) -> float | None:
    """Median peak RSS growth of one call (MiB) in a fresh subprocess; None if unsupported."""
    if not (CLEAR_REFS.exists() and STATUS.exists()):
        return None
    command = [sys.executable, __file__, "--memory-probe", name]
    for flag in ("batch", "height", "width", "seed", "threads", "memory_calls"):
        command += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="131072")
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    peaks = json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_growth_kib"]
    return statistics.median(peaks) / 1024


def time_both(args: argparse.Namespace) -> tuple[dict[str, list[float]], float]:
    """Seconds per call of each implementation, per repeat; and max |ours - reference|."""
    model, images, targets = build_inputs(args.batch, args.height, args.width, args.seed)
    runners = {name: make_runner(name, model, images, targets) for name in IMPLEMENTATIONS}
    difference = float(np.abs(runners["ours"]() - runners["reference"]()).max())
    for _ in range(args.warmup):
        for call in runners.values():
            call()
    seconds: dict[str, list[float]] = {name: [] for name in IMPLEMENTATIONS}
    for repeat in tqdm(range(args.repeats), desc="timing", file=sys.stderr):
        order = IMPLEMENTATIONS if repeat % 2 == 0 else IMPLEMENTATIONS[::-1]
        for name in order:
            start = time.perf_counter()
            runners[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds, difference


def main(args: argparse.Namespace) -> None:
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.memory_probe:
        memory_probe(args)
        return
    print(
        f"Grad-CAM benchmark: ResNet-18 (5 classes, random weights), batch {args.batch} x 3 x "
        f"{args.height} x {args.width}, target layer layer2[-1], CPU, "
        f"{torch.get_num_threads()} torch threads, torch {torch.__version__}"
    )
    seconds, difference = time_both(args)
    print(f"max |ours - reference| over the batch: {difference:.2e}")
    print(f"{args.warmup} warm-up calls, {args.repeats} timed calls each (median):")
    throughput = {}
    for name in IMPLEMENTATIONS:
        median = statistics.median(seconds[name])
        throughput[name] = args.batch / median
        print(
            f"  {name:9s}: {median * 1000:8.1f} ms/batch  {throughput[name]:8.1f} images/s  "
            f"(min {min(seconds[name]) * 1000:.1f} ms, max {max(seconds[name]) * 1000:.1f} ms)"
        )
    paired = statistics.median(
        r / o for o, r in zip(seconds["ours"], seconds["reference"], strict=True)
    )
    ratio = throughput["ours"] / throughput["reference"]
    verdict = "meets" if ratio >= SPEED_GOAL else "MISSES"
    print(f"speed-up (ours / reference images/s): {ratio:.2f}x ({verdict} the {SPEED_GOAL}x goal)")
    print(f"median of per-repeat ratios: {paired:.2f}x")
    print(
        "peak memory: extra resident memory (RSS) at the peak of one warmed-up call, fresh "
        f"process each, median of {args.memory_calls} calls:"
    )
    for name in IMPLEMENTATIONS:
        mib = measure_memory(name, args)
        text = "n/a (needs Linux /proc/self/clear_refs)" if mib is None else f"{mib:8.1f} MiB"
        print(f"  {name:9s}: {text}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=positive_int, default=64)
    parser.add_argument("--height", type=positive_int, default=48)
    parser.add_argument("--width", type=positive_int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls of each first")
    parser.add_argument("--repeats", type=positive_int, default=7, help="timed calls of each")
    threads = "torch intra-op threads (0: torch's default)"
    parser.add_argument("--threads", type=int, default=0, help=threads)
    parser.add_argument("--memory-calls", type=positive_int, default=3, help="per memory probe")
    parser.add_argument("--memory-probe", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    return parser


if __name__ == "__main__":
    run(main, build_parser())
