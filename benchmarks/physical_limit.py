"""The physical limit of training the lesson's model: multiply-adds per epoch and the CPU's peak rate.

Peak rate = cores x clock x SIMD lanes (float32) x 2 (a fused multiply-add is two FLOPs)
x FMA units per core.  Cores come from ``os.cpu_count()``, the clock from ``cpu MHz`` and the SIMD
width from the ``flags`` of ``/proc/cpuinfo`` (avx512f: 512 bits, avx/avx2: 256, else 128); the
number of FMA units is not in /proc/cpuinfo, so two per core is assumed (true of current x86
server cores; a core that splits 512-bit work into two 256-bit halves reaches half of this).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mnist_ref.lesson import HIDDEN_LAYERS, HIDDEN_UNITS, NUM_CLASSES, NUM_PIXELS, NUM_TRAIN

LAYER_WIDTHS = (NUM_PIXELS, *[HIDDEN_UNITS] * HIDDEN_LAYERS, NUM_CLASSES)  # (784, 50, 50, 10)
BACKWARD_FACTOR = 3  # forward + backward (gradients w.r.t. activations and weights) ≈ 3x forward
ASSUMED_FMA_UNITS = 2


def forward_macs_per_image(widths: tuple[int, ...] = LAYER_WIDTHS) -> int:
    """Multiply-adds of one forward pass: 784*50 + 50*50 + 50*10 = 42,200 for the lesson's model."""
    return sum(a * b for a, b in zip(widths, widths[1:], strict=False))


def epoch_macs(num_train: int = NUM_TRAIN, widths: tuple[int, ...] = LAYER_WIDTHS) -> int:
    """Multiply-adds of one training epoch (forward + backward ≈ 3x forward, per training image)."""
    return BACKWARD_FACTOR * forward_macs_per_image(widths) * num_train


@dataclass(frozen=True)
class CpuPeak:
    """The CPU's estimated peak float32 rate and how it was estimated."""

    cores: int
    ghz: float
    simd_bits: int
    fma: bool
    fma_units: int

    @property
    def flops_per_cycle_per_core(self) -> int:
        lanes = self.simd_bits // 32
        return lanes * (2 * self.fma_units if self.fma else 2)  # without FMA: one mul + one add

    @property
    def peak_flops(self) -> float:
        return self.cores * self.ghz * 1e9 * self.flops_per_cycle_per_core

    def explain(self) -> str:
        lanes = f"{self.simd_bits // 32} float32 lanes"
        per = (f"{lanes} x 2 FLOPs per FMA x {self.fma_units} FMA units (assumed)"
               if self.fma else f"{lanes} x (1 mul + 1 add)")
        return (f"{self.cores} cores x {self.ghz:.2f} GHz x {self.flops_per_cycle_per_core} FLOP/cycle "
                f"({per}) = {self.peak_flops / 1e9:.0f} GFLOP/s")


def cpu_peak(cpuinfo: str | None = None, cores: int | None = None) -> CpuPeak:
    """Estimate the peak from /proc/cpuinfo (clock of the first CPU listed, its SIMD flags)."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        cpuinfo = path.read_text() if path.exists() else ""
    fields: dict[str, str] = {}
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    flags = set(fields.get("flags", "").split())
    simd = 512 if "avx512f" in flags else 256 if flags & {"avx", "avx2"} else 128
    ghz = float(fields.get("cpu MHz", "0") or 0) / 1000 or 2.0  # 2 GHz when the clock is unknown
    return CpuPeak(cores or os.cpu_count() or 1, ghz, simd, "fma" in flags, ASSUMED_FMA_UNITS)
