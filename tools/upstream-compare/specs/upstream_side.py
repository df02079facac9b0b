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

"""Run under the upstream venv: dump validators/props, or judge cases."""
import json
import logging
import sys
import warnings

from nova.api.validation.extra_specs import validators as v
from nova import objects
from nova.objects import image_meta

warnings.simplefilter('ignore')
logging.disable(logging.CRITICAL)
objects.register_all()
mode = sys.argv[1]
if mode == 'dump':
    out = {}
    for name, val in v.VALIDATORS.items():
        d = {'type': val.value['type'].__name__}
        if 'enum' in val.value:
            d['enum'] = list(val.value['enum'])
        out[name] = d
    props = {}
    for n, f in image_meta.ImageMetaProps.fields.items():
        at = getattr(f, 'AUTO_TYPE', None)
        vv = getattr(at, 'valid_values', None) if at else None
        props[n] = {'enum': list(vv) if vv else None}
    json.dump({'validators': out, 'props': props}, sys.stdout)
elif mode == 'flavor':
    res = []
    for k, val in json.load(sys.stdin):
        try:
            v.validate(k, val)
            res.append(True)
        except Exception:
            res.append(False)
    json.dump(res, sys.stdout)
else:
    res = []
    for k, val in json.load(sys.stdin):
        try:
            image_meta.ImageMetaProps.from_dict({k: val})
            res.append(True)
        except Exception:
            res.append(False)
    json.dump(res, sys.stdout)
