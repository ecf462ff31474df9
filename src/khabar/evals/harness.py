"""``khabar eval``: run the pipeline over the eval set, record or replay, score, gate on a baseline.

Scoring lives in :mod:`khabar.evals.metrics` and :mod:`khabar.evals.report`,
the judge's prompt in :mod:`khabar.evals.judge`; this module only runs things.

A cassette directory holds one JSON file per recorded exchange plus
``model.json``, which names the model that produced them (the request's
model name, and a human label such as "SmolLM2-135M-Instruct Q4_1, llama.cpp
in-process, bundled plumbing model"). Replay reads the model name from there,
so requests match the recordings byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from khabar.config import Settings
from khabar.core.digest import Digest
from khabar.errors import ConfigError, KhabarError, RecordingMissingError
from khabar.evals.gold import load_gold_dir
from khabar.evals.judge import Judgement, judge_digest
from khabar.evals.metrics import score_digest
from khabar.evals.report import EvalReport, Regression, aggregate, compare, load_report
from khabar.llm.recording import secure_dir
from khabar.pipeline import Summarizer

__all__ = ["EvalRun", "run_eval"]

logger = logging.getLogger("khabar")


@dataclass
class EvalRun:
    """What ``khabar eval`` produced."""

    report: EvalReport
    digests: dict[str, Digest]
    regressions: list[Regression] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    judgements: dict[str, Judgement] = field(default_factory=dict)


_REPLAYED = ("temperature", "max_tokens", "seed", "max_reasks")


def _model_info(cassettes: Path) -> dict[str, Any]:
    path = cassettes / "model.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing: a cassette directory must say which model made its recordings",
            hint="Record with `khabar eval --record DIR`, which writes it.",
        ) from None
    return data


def run_eval(
    articles: Path,
    gold: Path,
    *,
    settings: Settings | None = None,
    replay_dir: Path | None = None,
    record_dir: Path | None = None,
    baseline: Path | None = None,
    judge: bool = False,
) -> EvalRun:
    """Summarize every article that has gold, score it, and compare with ``baseline``.

    Example::

        run = khabar.run_eval(Path("evals/articles"), Path("evals/gold"),
                              replay_dir=Path("evals/cassettes/SmolLM2-135M-Instruct.Q4_1"))
        print(run.report.overall)
    """
    return asyncio.run(
        _run_eval(
            articles,
            gold,
            settings=settings or Settings(),
            replay_dir=replay_dir,
            record_dir=record_dir,
            baseline=baseline,
            judge=judge,
        )
    )


async def _run_eval(
    articles: Path,
    gold_dir: Path,
    *,
    settings: Settings,
    replay_dir: Path | None,
    record_dir: Path | None,
    baseline: Path | None,
    judge: bool,
) -> EvalRun:
    golds = load_gold_dir(gold_dir)
    paths = {p.stem: p for p in sorted(articles.glob("*.txt"))}
    notes: list[str] = []
    missing_gold = sorted(set(paths) - set(golds))
    if missing_gold:
        notes.append(
            f"no gold for {len(missing_gold)} articles, not scored: {', '.join(missing_gold)}"
        )
    missing_articles = sorted(set(golds) - set(paths))
    if missing_articles:
        raise ConfigError(f"gold without an article in {articles}: {', '.join(missing_articles)}")

    # Eval measures the model, never the cache.
    settings = settings.model_copy(update={"cache": False})
    if replay_dir is not None:
        info = _model_info(replay_dir)
        # The recorded decoding parameters, so that requests match byte for byte.
        recorded = {k: v for k, v in (info.get("settings") or {}).items() if k in _REPLAYED}
        settings = settings.model_copy(update={"model": info["model"], **recorded})
        notes.append(
            f"replaying recordings of {info.get('label', info['model'])} from {replay_dir}"
        )
    if record_dir is not None:
        secure_dir(record_dir)
        for old in record_dir.glob("*.json"):
            old.unlink()  # a fresh recording: nothing stale survives a re-record

    digests: dict[str, Digest] = {}
    errors: dict[str, str] = {}
    failures: dict[str, str] = {}
    judgements: dict[str, Judgement] = {}
    async with Summarizer(settings, replay_dir=replay_dir, record_dir=record_dir) as summarizer:
        model = _ModelView(summarizer)
        if record_dir is not None:
            model.label_recordings(model.label)
            (record_dir / "model.json").write_text(
                json.dumps(
                    {
                        "model": model.name,
                        "label": model.label,
                        "provider": model.provider,
                        "mode": model.mode,
                        "recorded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "settings": {
                            "temperature": settings.temperature,
                            "max_tokens": model.max_tokens,
                            "seed": settings.seed,
                            "max_reasks": model.max_reasks,
                        },
                    },
                    indent=2,
                )
                + "\n",
                encoding="utf-8",
            )
        for stem in sorted(golds):
            text = paths[stem].read_text(encoding="utf-8")
            try:
                digests[stem] = await summarizer.asummarize(text, article_id=stem)
            except (RecordingMissingError, ConfigError) as exc:
                errors[stem] = str(exc)  # stale recordings or broken settings: the run is void
                continue
            except KhabarError as exc:
                # The model failed on this article (deterministically, when replayed):
                # scored as "no digest"; a regression only if the baseline had one.
                failures[stem] = f"{exc.reason}: {exc}"
                continue
            if judge:
                judgements[stem] = await judge_digest(text, digests[stem], model.ask_judge)
        if not errors:
            stale = model.unplayed()
            if stale:
                errors["(recordings)"] = (
                    f"{len(stale)} recordings in {replay_dir} were never requested: they are stale. "
                    "Re-record with `khabar eval --record`."
                )
        model_name = model.name
        provider = model.provider

    scores = {stem: score_digest(digest, golds[stem]) for stem, digest in digests.items()}
    report = aggregate(
        scores, model=model_name, provider=provider, replay=replay_dir is not None, failed=failures
    )
    regressions: list[Regression] = []
    if baseline is not None:
        regressions = compare(report, load_report(baseline))
    return EvalRun(
        report=report,
        digests=digests,
        regressions=regressions,
        errors=errors,
        failures=failures,
        notes=notes,
        judgements=judgements,
    )


class _ModelView:
    """Everything the harness reads from a running Summarizer besides its digests."""

    def __init__(self, summarizer: Summarizer) -> None:
        self._summarizer = summarizer

    @property
    def name(self) -> str:
        return self._summarizer.backend.model

    @property
    def provider(self) -> str:
        return self._summarizer.backend.provider

    @property
    def mode(self) -> str:
        return self._summarizer.backend.mode

    @property
    def label(self) -> str:
        """A human name for the model, stored with recordings."""
        return self._summarizer.backend.describe()

    @property
    def max_tokens(self) -> int:
        return self._summarizer.effective_max_tokens()

    @property
    def max_reasks(self) -> int:
        return self._summarizer.effective_max_reasks()

    def label_recordings(self, label: str) -> None:
        recorder = self._summarizer.backend.recorder
        if recorder is not None:
            recorder.model_label = label

    def unplayed(self) -> set[str] | None:
        """Recordings never requested; None unless replaying."""
        replay = self._summarizer.backend.replay
        return None if replay is None else replay.unplayed()

    async def ask_judge(self, messages: list[dict[str, str]]) -> Judgement:
        summarizer = self._summarizer
        answer = await summarizer.backend.ask(
            messages,
            Judgement,
            max_tokens=summarizer.effective_max_tokens(),
            temperature=summarizer.settings.temperature,
            seed=summarizer.settings.seed,
            max_retries=summarizer.effective_max_reasks(),
        )
        return answer.value
