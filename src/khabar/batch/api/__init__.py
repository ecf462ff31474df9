"""Provider batch APIs: the standard OpenAI batch format, through the Files and Batches endpoints.

Cheapest path for large jobs that can wait up to 24 hours (OpenAI and Azure
OpenAI price batch requests at a discount). The same request files run
unchanged under vLLM's ``run_batch``::

    from khabar.batch.api import prepare_batch, submit, status, collect

    prepare_batch(["articles/"], "out.batch", settings, output="out.jsonl")
    submit("out.batch", settings)           # upload + one batch per request file
    status("out.batch", settings).lines()   # where it stands, with the estimated cost
    collect("out.batch", settings, wait=True)   # verify, write records, send re-asks

Every answer is verified exactly as online and the records and cache entries
are those ``khabar summarize`` writes, so ``khabar report``, ``khabar eval``
and a rerun see no difference. The job lives in its directory (ids and
statuses in ``state.json``, never a key): a killed process, or another
machine with the same settings, picks it up. See docs/scale.md.
"""

from __future__ import annotations

from .collector import acollect, collect
from .estimate import Estimate, estimate_paths
from .job import JobStatus, acancel, astatus, asubmit, cancel, status, submit
from .prepare import PrepareResult, aprepare_batch, prepare_batch
from .requests import BatchLimits

__all__ = [
    "BatchLimits",
    "Estimate",
    "JobStatus",
    "PrepareResult",
    "acancel",
    "acollect",
    "aprepare_batch",
    "astatus",
    "asubmit",
    "cancel",
    "collect",
    "estimate_paths",
    "prepare_batch",
    "status",
    "submit",
]
