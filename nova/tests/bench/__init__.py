"""Benchmarks for the pure real-time placement path: ``tox -e bench``.

``python -m nova.tests.bench [--quick] [--json FILE] [--only SECTIONS]``
prints plain tables: hostile CPU mask parsing, NUMA fitting on hosts of up
to 1024 pCPUs, the wall time of ``nova-realtime plan``, and, when an
upstream Nova virtualenv exists, the same parse and fit cases run there.
Targets are printed next to the numbers with PASS/MISS; nothing is
asserted, so a busy machine gives slow numbers rather than a failed build.
"""
