"""Compile the SSIM kernels (``_ssim_kernels.c``) on first use and load them with ctypes.

The shared library is built once per source version, compiler and CPU into a per-user
folder (``$SYNTHPRINT_KERNEL_DIR``, else ``$XDG_CACHE_HOME/synthprint/kernels``, else
``~/.cache/synthprint/kernels``), written atomically so concurrent processes never load a
half-written file. Without a C compiler, or with ``SYNTHPRINT_NO_NATIVE=1``, :func:`library`
returns ``None`` and callers use the (slower, equally exact) numpy code.

ctypes releases the GIL during a foreign call, so Python threads run kernels in parallel.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import numpy as np

_SOURCE = Path(__file__).with_name("_ssim_kernels.c")
_FLAGS = ["-O3", "-march=native", "-ffast-math", "-fPIC", "-shared", "-std=c99"]
_lock = threading.Lock()
_state: dict[str, object] = {}

_i64p = np.ctypeslib.ndpointer(np.int64, flags="C_CONTIGUOUS")
_u8p = np.ctypeslib.ndpointer(np.uint8, flags="C_CONTIGUOUS")
_f64p = np.ctypeslib.ndpointer(np.float64, flags="C_CONTIGUOUS")
_i64 = ctypes.c_int64
_int = ctypes.c_int
_dbl = ctypes.c_double

_SIGNATURES = {
    "ssim_u8_block": [_u8p, _i64, _i64p, _u8p, _i64, _i64p, _int, _int, _int,
                      _dbl, _dbl, _dbl, ctypes.c_void_p, _f64p],
    "ssim_u8_rows_block": [_u8p, _i64, _i64p, _u8p, _i64, _i64p, _int, _int, _int, _int,
                           _dbl, _dbl, _dbl, _f64p],
    "ssim_u8_grid_block": [_u8p, _i64, _i64p, _u8p, _i64, _i64p, _int, _int, _int,
                           _dbl, _dbl, _dbl, _f64p],
    "ssim_f64_block": [_f64p, _i64, _i64p, _f64p, _i64, _i64p, _int, _int, _int, _i64, _f64p, _int,
                       _dbl, _dbl, _dbl, _f64p],
}


def _kernel_dir() -> Path:
    if os.environ.get("SYNTHPRINT_KERNEL_DIR"):
        return Path(os.environ["SYNTHPRINT_KERNEL_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "synthprint" / "kernels"


def _cpu_signature() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor()


def _compiler() -> str | None:
    for name in (os.environ.get("CC"), "cc", "gcc", "clang"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def _build(cc: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        subprocess.run([cc, *_FLAGS, str(_SOURCE), "-o", tmp], check=True,
                       capture_output=True, text=True, timeout=120)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load() -> ctypes.CDLL | None:
    if os.environ.get("SYNTHPRINT_NO_NATIVE", "") not in ("", "0"):
        return None
    cc = _compiler()
    if cc is None or sys.platform == "win32":
        return None
    digest = hashlib.sha256()
    for part in (_SOURCE.read_bytes(), " ".join(_FLAGS).encode(), cc.encode(),
                 _cpu_signature().encode(), platform.machine().encode()):
        digest.update(part)
    target = _kernel_dir() / f"ssim_{digest.hexdigest()[:16]}.so"
    try:
        if not target.exists():
            try:
                _build(cc, target)
            except PermissionError:
                target = Path(tempfile.gettempdir()) / "synthprint-kernels" / target.name
                if not target.exists():
                    _build(cc, target)
        lib = ctypes.CDLL(str(target))
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or exc
        warnings.warn(f"synthprint: could not build the SSIM kernels ({detail}); "
                      "using the slower numpy code", RuntimeWarning, stacklevel=3)
        return None
    for name, argtypes in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = ctypes.c_int
    return lib


def library() -> ctypes.CDLL | None:
    """The loaded kernel library, or ``None`` when it cannot be built (numpy fallback)."""
    with _lock:
        if "lib" not in _state:
            _state["lib"] = _load()
        return _state["lib"]  # type: ignore[return-value]
