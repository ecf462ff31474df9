"""The core: pure functions and types that import nothing else of khabar but its errors.

* :mod:`khabar.core.digest` — the digest types (what the model fills, what khabar returns).
* :mod:`khabar.core.text` — fold, decode, normalize, detect the language, strip boilerplate, truncate.
* :mod:`khabar.core.grounding` — locate excerpts, read numbers and dates, verify a draft.
"""
