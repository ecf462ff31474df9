"""Running llama.cpp's native code without letting it take the process down.

A crash of native code kills the whole Python process, with no exception to
catch: on a Xeon with AMX inside a VM, a natively built llama.cpp
(llama-cpp-python 0.3.36) dies with SIGILL at the first decode, because it
moves the weights into its AMX buffer. So, with ``KHABAR_LOCAL_SAFE_MODE=auto``,
before a model is loaded in-process :func:`choose_safe_config` has a child
process of the same Python load it and decode a few tokens
(:func:`run_probe`). When the child dies by a signal, the safe configuration
(no extra buffer types: ``use_extra_bufts=False``) is tried the same way; when
that dies too, a :class:`~khabar.errors.ConfigError` names the signal, the CPU
flag and the remedy (a generic build of llama-cpp-python). The verdict is kept
per model file, llama.cpp build and CPU flags in the khabar user directory, so
the test runs once.

Threads: llama.cpp's threads spin while they wait, so asking for every core of
a shared machine made generation about 5x slower than one thread (measured on
two shared cores); :func:`default_threads` takes the cores free now, leaving
one spare.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from khabar.config import SafeMode, secure_dir, user_dir
from khabar.errors import ConfigError

__all__ = [
    "REBUILD",
    "ProbeResult",
    "choose_safe_config",
    "construct_llama",
    "cpu_flags",
    "default_threads",
    "probe_key",
    "run_probe",
    "suspect_cpu_flags",
]

logger = logging.getLogger("khabar")


def default_threads() -> int:
    """Threads for llama.cpp: the cores free now (CPU affinity minus the load), leaving one spare."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # Windows
        load = 0.0
    return max(1, min(cores - 1, int(cores - load)))


REBUILD = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install --no-cache-dir --force-reinstall llama-cpp-python'
)
PROBE_TIMEOUT = 300.0
# The child imports khabar, so that it builds the model exactly as the parent will.
_PROBE_CODE = "import sys; from khabar.llm.native import _probe_child; _probe_child(sys.argv[1])"
_PROBE_OK = "khabar-probe-ok"
# How Windows reports an illegal instruction and an access violation in the exit code.
_WINDOWS_CRASHES = {0xC000001D: "illegal instruction", 0xC0000005: "access violation"}


@dataclass(frozen=True)
class ProbeResult:
    """How a test decode in a child process ended: ``ok``, ``crashed`` (by a signal), ``failed``, ``timeout``."""

    status: Literal["ok", "crashed", "failed", "timeout"]
    signal: int | None = None
    detail: str = ""

    def describe(self) -> str:
        """ "crashed (SIGILL: illegal instruction)", for messages."""
        if self.signal is None:
            return f"crashed ({self.detail})" if self.detail else "crashed"
        try:
            name = signal.Signals(self.signal).name
        except ValueError:
            name = f"signal {self.signal}"
        why = signal.strsignal(self.signal) if hasattr(signal, "strsignal") else None
        return f"crashed ({name}: {why.lower()})" if why else f"crashed ({name})"


def run_probe(spec: dict[str, Any], timeout: float = PROBE_TIMEOUT) -> ProbeResult:
    """Load ``spec["model_path"]`` and decode a few tokens in a child process of this Python."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE_CODE, json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult("timeout", detail=f"no answer within {timeout:g} s")
    except OSError as exc:
        return ProbeResult("failed", detail=f"cannot start {sys.executable}: {exc}")
    if done.returncode < 0:
        return ProbeResult("crashed", signal=-done.returncode)
    if done.returncode in _WINDOWS_CRASHES:
        return ProbeResult("crashed", detail=_WINDOWS_CRASHES[done.returncode])
    if done.returncode == 0 and _PROBE_OK in done.stdout:
        return ProbeResult("ok")
    tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-2:])
    return ProbeResult("failed", detail=f"exit status {done.returncode}: {tail[-300:]}")


def _probe_child(spec_json: str) -> None:
    """The child's side of :func:`run_probe`: load, decode a few tokens, say so."""
    from llama_cpp import Llama

    spec = json.loads(spec_json)
    llama = construct_llama(
        Llama, Path(spec["model_path"]), n_ctx=256, n_threads=spec["n_threads"], safe=spec["safe"]
    )
    llama.create_completion("The news today", max_tokens=4, temperature=0.0)
    print(_PROBE_OK, flush=True)


_PARAMS_LOCK = threading.Lock()


@contextlib.contextmanager
def _safe_params() -> Iterator[None]:
    """Models loaded inside get ``use_extra_bufts=False`` (no AMX / repacked weight buffers).

    llama-cpp-python 0.3.36 swallows unknown keyword arguments, so
    ``Llama(use_extra_bufts=False)`` changes nothing: the flag has to be set on
    the model parameters that ``Llama.__init__`` takes from this function.
    """
    try:
        import llama_cpp.llama_cpp as native
    except ImportError:  # a test double; nothing native to configure
        yield
        return
    defaults = native.llama_model_default_params

    def safe_defaults() -> Any:
        params = defaults()
        params.use_extra_bufts = False
        return params

    native.llama_model_default_params = safe_defaults
    try:
        yield
    finally:
        native.llama_model_default_params = defaults


def construct_llama(llama_class: Any, path: Path, *, n_ctx: int, n_threads: int, safe: bool) -> Any:
    """``Llama(...)`` as khabar runs it; ``safe`` turns extra buffer types off."""
    kwargs: dict[str, Any] = {
        "model_path": str(path),
        "n_ctx": n_ctx,
        # Prompt evaluation too: llama-cpp-python's default for it is every core.
        "n_threads": n_threads,
        "n_threads_batch": n_threads,
        "verbose": False,
        "seed": 0,
    }
    if not safe:
        return llama_class(**kwargs)
    with _PARAMS_LOCK, _safe_params():
        # The keyword too, for a llama-cpp-python that reads it.
        return llama_class(**kwargs, use_extra_bufts=False)


def cpu_flags() -> list[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo), else a description of the processor."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.startswith(("flags", "Features")):
                return sorted(set(line.partition(":")[2].split()))
    return [platform.machine(), platform.processor()]


def suspect_cpu_flags() -> list[str]:
    """The flags of instructions that natively built llama.cpp uses and VMs may trap: AMX, then AVX-512."""
    flags = cpu_flags()
    return [f for f in flags if f.startswith("amx")] or [f for f in flags if f.startswith("avx512")]


def probe_key(path: Path) -> str:
    """The verdict's key: the model file, the llama.cpp build, the CPU."""
    from importlib import metadata, util

    try:
        version = metadata.version("llama_cpp_python")
    except metadata.PackageNotFoundError:
        version = None
    build: list[Any] = []
    try:
        spec = util.find_spec("llama_cpp")
    except (ImportError, ValueError):  # not installed, or a stand-in module
        spec = None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        # A rebuild with other CMAKE_ARGS keeps the version but not the libraries.
        for lib in sorted(Path(folder, "lib").glob("*")):
            with contextlib.suppress(OSError):
                build.append([lib.name, lib.stat().st_size, lib.stat().st_mtime_ns])
    size = path.stat().st_size if path.exists() else None
    parts = [str(path.resolve()), size, version, build, cpu_flags()]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:32]


def _read_verdicts(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, str)} if isinstance(data, dict) else {}


def _write_verdict(path: Path, key: str, verdict: str) -> None:
    verdicts = _read_verdicts(path)
    verdicts[key] = verdict
    try:
        secure_dir(path.parent)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(verdicts, indent=1), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:  # the test runs again next time: slower, not wrong
        logger.info("could not keep the llama.cpp test verdict in %s: %s", path, exc)


Probe = Callable[[dict[str, Any]], ProbeResult]


def choose_safe_config(
    path: Path,
    *,
    name: str,
    n_threads: int,
    safe_mode: SafeMode,
    probe: Probe | None = None,
    verdicts: Path | None = None,
) -> bool:
    """Whether to load ``path`` with the safe configuration; see the module docstring.

    ``probe`` replaces :func:`run_probe` (tests); ``verdicts`` is the file that
    keeps the verdicts (default: ``$KHABAR_HOME/local-probe.json``).
    """
    if safe_mode != "auto":
        return safe_mode == "on"
    probe = probe or run_probe
    verdicts = verdicts or user_dir() / "local-probe.json"
    key = probe_key(path)
    known = _read_verdicts(verdicts).get(key)
    if known in ("default", "safe"):
        return known == "safe"
    spec = {"model_path": str(path), "n_threads": n_threads, "safe": False}
    first = probe(spec)
    if first.status == "ok":
        _write_verdict(verdicts, key, "default")
        return False
    if first.status != "crashed":
        logger.warning(
            "could not test-decode %s in a child process (%s); loading it in-process "
            "without that check",
            name,
            first.detail or first.status,
        )
        return False
    second = probe({**spec, "safe": True})
    cause = f"{first.describe()} on its first decode of {name} in a test process"
    flags = suspect_cpu_flags()
    on_cpu = f" on this CPU ({', '.join(flags)})" if flags else ""
    if second.status == "crashed":
        raise ConfigError(
            f"llama.cpp {cause}{on_cpu}, with its default configuration and again with "
            "extra buffer types off (use_extra_bufts=False); loading it here would kill "
            "the whole process"
            + (
                ". A llama.cpp built for the build machine's CPU (GGML_NATIVE, the default) "
                f"uses {flags[0]}, which this machine (or its VM) does not execute"
                if flags
                else ""
            ),
            hint=f"Rebuild llama-cpp-python for a generic CPU: {REBUILD}; or point "
            "KHABAR_BASE_URL at a model server.",
        )
    if second.status == "ok":
        _write_verdict(verdicts, key, "safe")
    logger.warning(
        "llama.cpp %s%s; khabar runs it with extra buffer types off (use_extra_bufts=False), "
        "which works but may be slower. For full speed, rebuild llama-cpp-python: %s. "
        "(KHABAR_LOCAL_SAFE_MODE=on skips this test; the verdict is kept in %s.)",
        cause,
        on_cpu,
        REBUILD,
        verdicts,
    )
    return True
