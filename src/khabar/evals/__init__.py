"""Evaluation: gold annotations, metrics, reports, the harness that replays recordings, the judge."""
