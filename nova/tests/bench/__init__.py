# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Benchmarks for the pure real-time placement path: ``tox -e bench``.

``python -m nova.tests.bench [--quick] [--json FILE] [--only SECTIONS]``
prints plain tables: hostile CPU mask parsing, NUMA fitting on hosts of up
to 1024 pCPUs, the wall time of ``nova-realtime plan``, and, when an
upstream Nova virtualenv exists, the same parse and fit cases run there.
Targets are printed next to the numbers with PASS/MISS; nothing is
asserted, so a busy machine gives slow numbers rather than a failed build.
"""
