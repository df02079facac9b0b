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

"""Hypothesis profiles, loaded before any test module is imported.

``ci`` (the default): derandomized, so every run of a test explores the
same examples (its seed is derived from the test's name) and a failure
reproduces exactly; ``explore`` (``tox -e faults``, or
NOVA_RT_HYPOTHESIS_PROFILE=explore): a fresh random seed each run, for
finding new failures; a failure prints the blob that reproduces it.
"""

import os

import hypothesis

hypothesis.settings.register_profile(
    'ci', derandomize=True, deadline=None, print_blob=True,
    database=None)
hypothesis.settings.register_profile(
    'explore', derandomize=False, deadline=None, print_blob=True,
    database=None)
hypothesis.settings.load_profile(
    os.environ.get('NOVA_RT_HYPOTHESIS_PROFILE', 'ci'))
