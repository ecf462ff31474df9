"""Bridges to engines outside khabar; each is an optional extra (``pip install 'khabar[ray]'``).

* :mod:`khabar.integrations.ray`: Ray Data, for self-hosted scale across machines.
"""
