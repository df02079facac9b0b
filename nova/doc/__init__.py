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

"""Helpers that build parts of the documentation from the code itself.

``runner`` runs ``nova-realtime`` in-process for the examples the docs show,
``image_props`` reads the image property descriptions from
nova/objects/image_meta.py, ``sphinxext`` is the Sphinx extension that puts
both (and the extra spec and command references) into the pages.
"""
