#!/usr/bin/env python3
"""Converts ../shared/reference/gpu/h100-sxm-microbench.json (measured on a real H100 SXM)
into an aifsim-gpu-profile/1 file, keeping its figures and provenance unchanged.

Usage: calibration/convert_reference_profile.py REFERENCE.json OUT.json
"""
import json
import sys


def main(src, dst):
    with open(src) as f:
        ref = json.load(f)
    profile = {
        "schema": "aifsim-gpu-profile/1",
        "device": ref["device"],
        "software": ref["software"],
        "method": ref["method"],
        "provenance": {
            "source": "shared/reference/gpu/h100-sxm-microbench.json (aifsim reference data)",
            "measured_on": "unknown",
            "notes": "Measured on one NVIDIA H100 80GB HBM3 SXM5 with CUDA 13.0 and cuBLAS; converted unchanged "
                     "(figures, device, software and method as measured) by calibration/convert_reference_profile.py. "
                     "No fp8, attention or all-reduce measurements in this profile.",
        },
        "gemm": ref["gemm"],
        "device_memory": ref["device_memory"],
        "host_link": ref["host_link"],
        "kernel_launch_s": ref["kernel_launch_s"],
    }
    with open(dst, "w") as f:
        json.dump(profile, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
