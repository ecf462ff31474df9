"""Evaluation: score digests of the eval articles against hand-written gold, gate CI on a baseline.

Along the data flow:

* :mod:`khabar.evals.gold` — the gold annotations (``evals/gold/*.yaml``) and their loaders;
* :mod:`khabar.evals.metrics` — :func:`~khabar.evals.metrics.score_digest`: one digest against its gold;
* :mod:`khabar.evals.report` — the run's report, its JSON, and :func:`~khabar.evals.report.compare`
  against a baseline;
* :mod:`khabar.evals.render` — the report as a rich table or Markdown;
* :mod:`khabar.evals.judge` — the optional LLM judge of faithfulness (``--judge``);
* :mod:`khabar.evals.harness` — :func:`~khabar.evals.harness.run_eval`, which runs the
  pipeline (live, recording or replaying) and ties the rest together.
"""
