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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from khabar.config import Settings
from khabar.core.digest import Digest
from khabar.core.text import clean_article, normalize_text
from khabar.errors import ConfigError, KhabarError, RecordingMissingError
from khabar.evals.digests import score_records
from khabar.evals.judge import Judgement, judge_digest
from khabar.evals.metrics import score_digest, score_failure
from khabar.evals.recordings import (
    RequestCapture,
    explain_missing,
    recorded_articles,
    recording_owners,
    replay_cap,
    rerecord_command,
)
from khabar.evals.report import (
    EvalReport,
    Regression,
    aggregate,
    compare,
    load_report,
    uncompared,
)
from khabar.evals.sets import default_gold_dirs, load_eval_set
from khabar.llm.recording import secure_dir
from khabar.pipeline import Summarizer

__all__ = ["EvalRun", "run_eval", "score_digests"]

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
    articles: Path | None,
    gold: Path | Sequence[Path],
    *,
    settings: Settings | None = None,
    replay_dir: Path | None = None,
    record_dir: Path | None = None,
    baseline: Path | None = None,
    judge: bool = False,
) -> EvalRun:
    """Summarize every article that has gold, score it, and compare with ``baseline``.

    ``gold`` is one gold directory or several (``evals/gold``, ``evals/corpus/gold``);
    each article is looked up in ``articles``, else beside its gold directory
    (:func:`~khabar.evals.sets.load_eval_set`).

    Example::

        run = khabar.run_eval(Path("evals/articles"), Path("evals/gold"),
                              replay_dir=Path("evals/cassettes/SmolLM2-135M-Instruct.Q4_1"))
        print(run.report.coverage(), run.report.overall)
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


def score_digests(
    digests: Path,
    gold: Path | Sequence[Path],
    *,
    articles: Path | None = None,
    baseline: Path | None = None,
) -> EvalRun:
    """Score the digests a ``khabar summarize`` JSONL holds against the gold, without a model.

    An article with gold but no digest (an error record, or no record) scores 0.

    Example::

        run = score_digests(Path("out.jsonl"), [Path("evals/gold")])
        print(run.report.coverage(), run.report.overall["people_f1"])
    """
    items, notes = load_eval_set(gold, articles)
    scores, more, model, provider = score_records(digests, items)
    report = aggregate(scores, model=model, provider=provider, replay=False)
    regressions, gate_notes = _gate(report, baseline)
    return EvalRun(
        report=report,
        digests={},
        regressions=regressions,
        failures=dict(report.failed),
        notes=[*notes, *more, *gate_notes, f"scored the digests of {digests} (no model ran)"],
    )


def _gate(report: EvalReport, baseline: Path | None) -> tuple[list[Regression], list[str]]:
    """The regressions against ``baseline``, and a note naming its articles this run left out."""
    if baseline is None:
        return [], []
    base = load_report(baseline)
    left_out = uncompared(report, base)
    notes = (
        [
            f"{len(left_out)} articles of the baseline are not in this run's eval set, not "
            f"compared (the means are compared over the rest): {', '.join(left_out)}"
        ]
        if left_out
        else []
    )
    return compare(report, base), notes


async def _run_eval(
    articles: Path | None,
    gold: Path | Sequence[Path],
    *,
    settings: Settings,
    replay_dir: Path | None,
    record_dir: Path | None,
    baseline: Path | None,
    judge: bool,
) -> EvalRun:
    items, notes = load_eval_set(gold, articles)

    # Eval measures the model, never the cache.
    settings = settings.model_copy(update={"cache": False})
    info: dict[str, Any] = {}
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
    capture = RequestCapture()
    fitted = recorded_articles(replay_dir) if replay_dir is not None else {}
    async with Summarizer(settings, replay_dir=replay_dir, record_dir=record_dir) as summarizer:
        model = _ModelView(summarizer)
        if replay_dir is not None:
            capture.attach(getattr(summarizer.backend, "http_client", None))
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
        for stem, item in items.items():
            text = item.article.read_text(encoding="utf-8")
            capture.body = None
            if replay_dir is not None:
                # The recorded model cut this article to fit its context; replay has no
                # tokenizer to do the same, so it cuts where the recording did.
                cap = replay_cap(clean_article(normalize_text(text)).text, fitted.get(stem))
                summarizer.settings = (
                    settings
                    if cap is None
                    else settings.model_copy(update={"max_article_chars": cap})
                )
            try:
                digests[stem] = await summarizer.asummarize(text, article_id=stem)
            except RecordingMissingError as exc:
                assert replay_dir is not None  # only replay raises it
                errors[stem] = explain_missing(
                    replay_dir,
                    stem,
                    str(exc),
                    capture.body,
                    rerecord_command(replay_dir, info, _set_args(articles, gold)),
                )
                continue
            except ConfigError as exc:
                errors[stem] = str(exc)  # broken settings: the run is void
                continue
            except KhabarError as exc:
                # The model failed on this article (deterministically, when replayed):
                # scored 0 as "no digest"; a regression only if the baseline had one.
                failures[stem] = f"{exc.reason}: {exc}"
                continue
            if judge:
                judgements[stem] = await judge_digest(text, digests[stem], model.ask_judge)
        if not errors and replay_dir is not None:
            # A recording of an article outside this eval set (``--gold evals/gold`` over
            # a directory that also holds the corpus) is unused, not stale.
            unplayed = model.unplayed() or set()
            owners = recording_owners(replay_dir, unplayed)
            stale = {key for key in unplayed if owners.get(key) in items}
            if stale:
                errors["(recordings)"] = (
                    f"{len(stale)} recordings in {replay_dir} of articles in this eval set were "
                    "never requested: they are stale (an older prompt, schema or article). "
                    f"Re-record: `{rerecord_command(replay_dir, info, _set_args(articles, gold))}`"
                )
            elif unplayed:
                notes.append(
                    f"{len(unplayed)} recordings in {replay_dir} belong to articles outside "
                    "this eval set: not used"
                )
        model_name = model.name
        provider = model.provider

    scores = {stem: score_digest(digest, items[stem].gold) for stem, digest in digests.items()}
    # A stale recording voids the run (errors), but the article still counts as unanswered.
    unanswered = {**failures, **{k: "error: " + v.splitlines()[0] for k, v in errors.items()}}
    for stem, reason in unanswered.items():
        if stem in items:
            scores[stem] = score_failure(items[stem].gold, reason)
    report = aggregate(scores, model=model_name, provider=provider, replay=replay_dir is not None)
    regressions, more = _gate(report, baseline)
    notes.extend(more)
    return EvalRun(
        report=report,
        digests=digests,
        regressions=regressions,
        errors=errors,
        failures=failures,
        notes=notes,
        judgements=judgements,
    )


def _set_args(articles: Path | None, gold: Path | Sequence[Path]) -> str:
    """The --articles / --gold options that name a non-default eval set, for a command line."""
    dirs = [Path(gold)] if isinstance(gold, (str, Path)) else [Path(g) for g in gold]
    if dirs == default_gold_dirs() and articles is None:
        return ""
    args = "".join(f" --gold {d}" for d in dirs)
    return args + (f" --articles {articles}" if articles is not None else "")


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
