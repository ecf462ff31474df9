"""Evaluation: score digests against hand-written gold, compare runs, gate CI on a baseline.

Along the data flow:

* :mod:`khabar.evals.gold` — the gold annotations (YAML) and their loaders;
  :mod:`khabar.evals.sets` — which articles have gold, and where their text is;
* :mod:`khabar.evals.checkgold` — the gold validator (``khabar eval check-gold``);
* :mod:`khabar.evals.metrics` — :func:`~khabar.evals.metrics.score_digest` and
  :func:`~khabar.evals.metrics.score_failure`, over the matchers of
  :mod:`~khabar.evals.entities`, :mod:`~khabar.evals.facts` (with
  :mod:`~khabar.evals.units`) and :mod:`~khabar.evals.summaries` (with
  :mod:`~khabar.evals.wording`);
* :mod:`khabar.evals.report` — the run's report, its means and bootstrap intervals
  (:mod:`khabar.evals.stats`), its JSON, and the baseline gate;
* :mod:`khabar.evals.render` — the report as rich tables or Markdown, and the
  order of what ``khabar eval`` says after it;
* :mod:`khabar.evals.digests` — scoring a digests JSONL without a model;
  :mod:`khabar.evals.versus` — two runs compared, paired (``khabar eval compare``);
  :mod:`khabar.evals.agreement` — one gold directory against another;
* :mod:`khabar.evals.judge` — the optional LLM judge of faithfulness (``--judge``);
* :mod:`khabar.evals.recordings` — why a recording is missing, and what changed;
* :mod:`khabar.evals.harness` — :func:`~khabar.evals.harness.run_eval`, which runs the
  pipeline (live, recording or replaying) and ties the rest together.
"""
