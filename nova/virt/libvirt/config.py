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

"""Libvirt domain XML as Python objects.

One class per XML element. Every class declares its fields once (``FIELDS``,
in constructor-argument order) and has two symmetric methods:

* ``format_dom()`` returns an lxml element holding only what is set, checked
  against the rules libvirt applies (an object that cannot become valid
  domain XML raises ``nova.exception.LibvirtConfigInvalid``);
* ``parse_dom(node)`` reads the same element back.

What a class does not model is not lost: each domain class declares what
its ``parse_dom`` reads (``XML_ATTRS`` and ``XML_CHILDREN``), and every other
attribute and child element of a parsed element (``<clock>``, ``<pm>``,
``<cputune><shares>``, ``<cpu><cache>``, a serial port's ``<target><model>``,
the ``<address>`` of a device...) is kept as an lxml copy and written back
unchanged, next to the modelled sibling it followed. So
``Cls.from_xml(obj.to_xml()) == obj`` holds for every class, and
``from_xml(xml).to_xml()`` says everything a domain libvirt wrote says.
Equality compares the fields and what was kept. What was kept is written
back as it was read: change a modelled field of a parsed object and the
kept XML next to it stays (libvirt is the judge of the result).

Children are written in the order of libvirt's schema
(``/usr/share/libvirt/schemas/domaincommon.rng``); most of its content models
are interleaves, but a stable order keeps the XML diffable.

Units: memory is always KiB (written with ``unit='KiB'``; other units are
converted when parsing), and every CPU or node set is a ``set`` of ints,
written as a CPU spec such as ``0-3,5``.

The host-capabilities classes live in ``config_caps``.
"""

import copy
import functools
import json

from lxml import etree
from oslo_log import log as logging

from nova import exception
from nova.i18n import _
from nova.virt import hardware

# Our own namespace for <metadata> content (libvirt requires a namespace for
# every custom metadata element).
NOVA_RT_NS = 'http://openstack.org/xmlns/libvirt/nova-realtime/1.0'
NOVA_RT_PREFIX = 'nrt'

LOG = logging.getLogger(__name__)

VIRT_TYPES = ('kvm', 'qemu', 'test')
NUMA_MEMORY_MODES = ('strict', 'preferred', 'interleave', 'restrictive')
SCHEDULERS_WITH_PRIORITY = ('fifo', 'rr')
SCHEDULERS_WITHOUT_PRIORITY = ('batch', 'idle')
# Real-time priorities the kernel accepts for SCHED_FIFO / SCHED_RR.
MIN_RT_PRIORITY = 1
MAX_RT_PRIORITY = 99

_UNIT_BYTES = {
    'b': 1, 'bytes': 1,
    'kb': 1000, 'k': 1024, 'kib': 1024,
    'mb': 1000 ** 2, 'm': 1024 ** 2, 'mib': 1024 ** 2,
    'gb': 1000 ** 3, 'g': 1024 ** 3, 'gib': 1024 ** 3,
    'tb': 1000 ** 4, 't': 1024 ** 4, 'tib': 1024 ** 4,
}
_FACTORIES = (list, set, dict)


def to_kib(value, unit=None):
    """Convert a libvirt scaled integer (``value`` in ``unit``) to KiB."""
    unit = (unit or 'KiB').lower()
    if unit not in _UNIT_BYTES:
        raise exception.LibvirtConfigInvalid(
            element='memory', attribute='unit', value=unit,
            reason=_(
                    'not a unit libvirt knows (b, KiB, MiB, GiB, TiB, KB...)'))
    return int(value) * _UNIT_BYTES[unit] // 1024


def _cpu_spec(cpuset):
    return hardware.format_cpu_spec(cpuset)


def _cpu_set(spec):
    return set(hardware.parse_cpu_spec(spec)) if spec is not None else None


def _int(value):
    return int(value) if value is not None else None


def _drop_changes(primitive):
    """A versioned-object primitive without its 'nova_object.changes'."""
    if isinstance(primitive, dict):
        return {key: _drop_changes(value) for key, value in primitive.items()
                if not key.endswith('.changes')}
    if isinstance(primitive, list):
        return [_drop_changes(value) for value in primitive]
    return primitive


class _hybridmethod:
    """A method that works on an instance, or on the class (new instance).

    ``Cls.parse_str(xml)`` returns a new parsed object, and
    ``obj.parse_str(xml)`` fills ``obj`` in (and returns it).
    """

    def __init__(self, func):
        self.func = func
        functools.update_wrapper(self, func)

    def __get__(self, obj, cls):
        return functools.partial(self.func, obj if obj is not None else cls())


# The parser for every XML document read here (domains from libvirt,
# capabilities from libvirt or an operator's file): entities are not
# expanded (no billion laughs) nor loaded (no external entities, no DTD),
# nothing is fetched from the network, and libxml2 keeps its default limits
# on depth and text size (huge_tree=False). lxml serialises the threads
# that share one parser object.
SAFE_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True,
                                  huge_tree=False, load_dtd=False)
# Longest parser message quoted in an error.
_XML_ERROR_LENGTH = 300


# XML_CHILDREN values: the child is read whole by a config object of its own
# (which keeps what it does not model itself) or by the class.
WHOLE = 'whole'
# An XML_CHILDREN key (every child) or XML_ATTRS entry (every attribute).
EVERY = '*'


def _text_child(*attrs, **children):
    """XML_CHILDREN value of a child read in place: its text, ``attrs`` and
    ``children`` (same form as XML_CHILDREN).
    """
    return (frozenset(attrs), children)


def _clean_copy(node):
    """A copy of ``node`` without indentation (so pretty printing works)."""
    node = copy.deepcopy(node)
    for element in node.iter():
        if len(element) and element.text and not element.text.strip():
            element.text = None
        if element.tail and not element.tail.strip():
            element.tail = None
    node.tail = None
    return node


class _Unmodelled:
    """What a parsed element held that its class does not read.

    ``attrs``: {name: value}; ``children``: [(anchor, element)], anchor
    being ``(tag, n)`` of the n-th modelled sibling it followed (None: it
    came first); ``inner``: {(tag, n): _Unmodelled} for modelled children
    read in place.
    """

    __slots__ = ('attrs', 'children', 'inner')

    def __init__(self, attrs, children, inner):
        self.attrs, self.children, self.inner = attrs, children, inner

    @classmethod
    def collect(cls, node, attrs, children):
        """The _Unmodelled of ``node``, or None when it had nothing."""
        attrib = node.attrib
        if not attrib or EVERY in attrs:
            extra_attrs = None
        else:
            extra_attrs = {key: value for key, value in attrib.items()
                           if key not in attrs}
        every = children.get(EVERY)
        if not len(node) or every is WHOLE:
            # Nothing below to keep (the common case: a leaf element).
            return cls(extra_attrs, [], {}) if extra_attrs else None
        raw, inner, anchor, seen = [], {}, None, {}
        for child in node:
            if not isinstance(child.tag, str):
                continue  # comments and processing instructions
            spec = children.get(child.tag, every)
            if spec is None:
                raw.append((anchor, _clean_copy(child)))
                continue
            count = seen.get(child.tag, 0)
            seen[child.tag] = count + 1
            anchor = (child.tag, count)
            if spec is not WHOLE:
                kept = cls.collect(child, *spec)
                if kept is not None:
                    inner[anchor] = kept
        if extra_attrs or raw or inner:
            return cls(extra_attrs or {}, raw, inner)
        return None

    def restore(self, node):
        """Put it back into ``node`` (the element format_dom wrote)."""
        for key, value in self.attrs.items():
            if node.get(key) is None:
                node.set(key, value)
        positions, seen = {}, {}
        for child in node:
            if isinstance(child.tag, str):
                count = seen.get(child.tag, 0)
                seen[child.tag] = count + 1
                positions[(child.tag, count)] = child
        for anchor, kept in self.inner.items():
            if anchor in positions:
                kept.restore(positions[anchor])
        previous = previous_anchor = None
        for anchor, element in self.children:
            element = copy.deepcopy(element)
            if previous is not None and anchor == previous_anchor:
                previous.addnext(element)
            elif anchor is None:
                node.insert(0, element)
            else:
                tag, count = anchor
                count = min(count, seen.get(tag, 0) - 1)
                if count >= 0:
                    positions[(tag, count)].addnext(element)
                else:
                    node.append(element)
            previous, previous_anchor = element, anchor

    def key(self):
        """A comparable form (the kept elements as canonical XML)."""
        return (tuple(sorted(self.attrs.items())),
                tuple((anchor, etree.tostring(element, method='c14n'))
                      for anchor, element in self.children),
                tuple(sorted((anchor, kept.key())
                             for anchor, kept in self.inner.items())))

    def __repr__(self):
        return '<unmodelled %s>' % ', '.join(
            ['@' + key for key in self.attrs]
            + [etree.QName(element).localname for _, element in self.children]
            + ['%s/...' % etree.QName(tag).localname
               for tag, _ in self.inner])


def _keeping_unmodelled(parse_dom):
    @functools.wraps(parse_dom)
    def wrapper(self, xmldoc):
        result = parse_dom(self, xmldoc)
        # Only once, in the class's own parse_dom (not in a super() call).
        if type(self).parse_dom is wrapper:
            self._unmodelled = _Unmodelled.collect(
                xmldoc, self._xml_attrs, self.XML_CHILDREN)
        return result
    return wrapper


def _restoring_unmodelled(format_dom):
    @functools.wraps(format_dom)
    def wrapper(self):
        node = format_dom(self)
        if type(self).format_dom is wrapper and self._unmodelled is not None:
            self._unmodelled.restore(node)
        return node
    return wrapper


class LibvirtConfigObject:
    """Base of every config class.

    Subclasses set ``ROOT_NAME`` (the element tag), optionally ``NAMESPACE``
    and ``NS_PREFIX``, and ``FIELDS``: ``(name, default)`` pairs where a
    default of ``list``, ``set`` or ``dict`` means a fresh empty one.

    A class that sets ``XML_CHILDREN`` keeps what it does not model (see
    the module docstring): ``XML_ATTRS`` names the attributes its
    ``parse_dom`` reads, ``XML_CHILDREN`` maps the child tags it reads to
    ``WHOLE`` or ``_text_child(attrs..., child=...)``.
    """

    ROOT_NAME = None
    NAMESPACE = None
    NS_PREFIX = None
    FIELDS = ()
    XML_ATTRS = ()
    XML_CHILDREN = None
    _unmodelled = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.XML_CHILDREN is None:
            return
        cls._xml_attrs = frozenset(cls.XML_ATTRS)
        if 'parse_dom' in cls.__dict__:
            cls.parse_dom = _keeping_unmodelled(cls.__dict__['parse_dom'])
        if 'format_dom' in cls.__dict__:
            cls.format_dom = _restoring_unmodelled(
                cls.__dict__['format_dom'])

    def __init__(self, *args, **kwargs):
        names = [name for name, _ in self.FIELDS]
        cls_name = type(self).__name__
        if len(args) > len(names):
            raise TypeError('%s() takes at most %d positional arguments '
                            '(%d given)' % (cls_name, len(names), len(args)))
        for name, default in self.FIELDS:
            setattr(self, name,
                    default() if default in _FACTORIES else default)
        for name, value in zip(names, args):
            setattr(self, name, value)
        for name, value in kwargs.items():
            if name not in names:
                raise TypeError('%s() got an unexpected keyword argument %r'
                                % (cls_name, name))
            if name in names[:len(args)]:
                raise TypeError('%s() got multiple values for argument %r'
                                % (cls_name, name))
            setattr(self, name, value)

    # -- comparison and display -------------------------------------------
    def _fields(self):
        return {name: getattr(self, name) for name, _ in self.FIELDS}

    def _unmodelled_key(self):
        return None if self._unmodelled is None else self._unmodelled.key()

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return (self._fields() == other._fields()
                and self._unmodelled_key() == other._unmodelled_key())

    __hash__ = None

    def __repr__(self):
        shown = []
        for name, default in self.FIELDS:
            value = getattr(self, name)
            empty = default() if default in _FACTORIES else default
            if value != empty:
                shown.append('%s=%r' % (name, value))
        if self._unmodelled is not None:
            shown.append(repr(self._unmodelled))
        return '%s(%s)' % (type(self).__name__, ', '.join(shown))

    # -- XML helpers ------------------------------------------------------
    def _qname(self, name):
        if self.NAMESPACE:
            return '{%s}%s' % (self.NAMESPACE, name)
        return name

    def _new_node(self, _tag=None, **attrs):
        """A new root element (in our namespace if any) with set attrs.

        Attribute values are checked as in _set_attrs.
        """
        nsmap = {self.NS_PREFIX: self.NAMESPACE} if self.NAMESPACE else None
        node = etree.Element(self._qname(_tag or self.ROOT_NAME), nsmap=nsmap)
        self._set_attrs(node, **attrs)
        return node

    def _sub(self, _parent, _tag, _text=None, **attrs):
        """A child of ``_parent`` with text and the attrs that are set.

        Text and attribute values that XML 1.0 cannot carry (control
        characters, lone surrogates, U+FFFE ...) raise LibvirtConfigInvalid
        naming ``parent/child`` and the attribute (``text`` for the text),
        instead of lxml's ValueError; nothing is added to ``_parent`` then.
        """
        if _text is not None:
            text = self._xml_text(
                _text, '%s/%s' % (etree.QName(_parent).localname, _tag),
                'text')
        node = etree.SubElement(_parent, self._qname(_tag))
        if _text is not None:
            node.text = text
        try:
            self._set_attrs(node, **attrs)
        except exception.LibvirtConfigInvalid:
            _parent.remove(node)
            raise
        return node

    @staticmethod
    def _set_attrs(node, **attrs):
        """Set the attrs that are not None, as text.

        A value XML 1.0 cannot carry raises LibvirtConfigInvalid naming the
        element (``parent/element``) and the attribute.
        """
        element = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            element = '%s/%s' % (etree.QName(parent).localname, element)
        for key, value in attrs.items():
            if value is not None:
                node.set(key, LibvirtConfigObject._xml_text(value, element,
                                                            key))

    @staticmethod
    def _xml_text(value, element, attribute):
        """``str(value)``, or LibvirtConfigInvalid naming ``element`` and
        ``attribute`` when XML 1.0 cannot carry it (or it cannot even be
        written: an int of over 4300 digits).
        """
        try:
            text = str(value)
        except ValueError as e:
            text, reason = None, str(e)
        else:
            reason = hardware.xml_unsafe_reason(text)
        if reason is not None:
            raise exception.LibvirtConfigInvalid(
                element=element, attribute=attribute,
                value=hardware.display_value(text), reason=reason)
        return text

    def _invalid(self, attribute, value, reason, element=None):
        return exception.LibvirtConfigInvalid(
            element=element or self.ROOT_NAME, attribute=attribute,
            value=value, reason=reason)

    def _require(self, *names):
        for name in names:
            if getattr(self, name) in (None, '', set(), []):
                raise self._invalid(name, getattr(self, name),
                                    _('is required'))

    def _check_tag(self, node):
        if self.ROOT_NAME is not None and node.tag != self._qname(
                self.ROOT_NAME):
            raise self._invalid('tag', node.tag, _('expected <%s>')
                                % self._qname(self.ROOT_NAME))

    # -- public API -------------------------------------------------------
    def format_dom(self):
        return self._new_node()

    def parse_dom(self, xmldoc):
        self._check_tag(xmldoc)

    def to_xml(self, pretty_print=True):
        return etree.tostring(self.format_dom(), pretty_print=pretty_print,
                              encoding='unicode')

    @_hybridmethod
    def parse_str(self, xmlstr):
        """Parse an XML string into this object; returns the object.

        Uses SAFE_XML_PARSER and refuses a document with a ``<!DOCTYPE>``
        (libvirt never writes one; its entities would not be expanded).
        Malformed XML raises LibvirtConfigInvalid with the parser's reason.
        """
        element = self.ROOT_NAME or 'xml'

        def invalid(reason):
            reason = ' '.join(str(reason).split())
            if len(reason) > _XML_ERROR_LENGTH:
                reason = reason[:_XML_ERROR_LENGTH] + '...'
            return exception.LibvirtConfigInvalid(
                'libvirt <%s> XML is not usable: %s' % (element, reason),
                element=element, attribute='xml', value=None, reason=reason)

        if isinstance(xmlstr, str):
            try:
                xmlstr = xmlstr.encode('utf-8')
            except UnicodeEncodeError as e:
                raise invalid('character %d cannot be encoded: %s'
                              % (e.start, e.reason))
        if not isinstance(xmlstr, bytes):
            raise invalid('expected a string, got %s'
                          % type(xmlstr).__name__)
        try:
            root = etree.fromstring(xmlstr, SAFE_XML_PARSER)
        except etree.XMLSyntaxError as e:
            raise invalid(e)
        if root.getroottree().docinfo.doctype:
            raise invalid('has a <!DOCTYPE>, which libvirt XML never has '
                          '(its entities would not be expanded)')
        self.parse_dom(root)
        return self

    @classmethod
    def from_xml(cls, xmlstr):
        """A new object parsed from an XML string."""
        return cls().parse_str(xmlstr)

    @classmethod
    def from_dom(cls, xmldoc):
        obj = cls()
        obj.parse_dom(xmldoc)
        return obj


class LibvirtConfigRawElement(LibvirtConfigObject):
    """An element this module does not model, kept verbatim as XML text.

    Parsing a domain keeps here, in the list they belong to, the devices
    without a class (disks, interfaces, a controller libvirt has expanded),
    the features that are more than a name and a state, and the
    ``<metadata>`` children of other tools (and our own when damaged), so
    they survive a round trip instead of being dropped. An unmodelled child
    of a modelled element (``<clock>``, ``<pm>`` of ``<domain>``) is not one
    of these: its element keeps it (see the module docstring).
    """

    FIELDS = (('xml', None),)

    def format_dom(self):
        self._require('xml')
        return etree.fromstring(self.xml.encode('utf-8'))

    def parse_dom(self, xmldoc):
        # Without indentation, so the text is the same however it was
        # printed.
        self.xml = etree.tostring(_clean_copy(xmldoc), encoding='unicode')

    @property
    def tag(self):
        return etree.fromstring(self.xml.encode('utf-8')).tag


# ---------------------------------------------------------------------------
# <features>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestFeature(LibvirtConfigObject):
    """A hypervisor feature: ``<acpi/>``, ``<apic/>``, ``<pmu state=/>``.

    The element name is the feature name; ``state`` ('on'/'off') is only for
    the features that take one (for example ``pmu``).
    """

    FIELDS = (('name', None), ('state', None))
    XML_ATTRS = ('state',)
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('name')
        return self._new_node(self.name, state=self.state)

    def parse_dom(self, xmldoc):
        self.name = xmldoc.tag
        self.state = xmldoc.get('state')


class LibvirtConfigGuestFeaturePMU(LibvirtConfigObject):
    """``<pmu state='on|off'/>``: the guest's virtual Performance
    Monitoring Unit. ``enabled`` is a bool (None: left to the hypervisor,
    and then the element is not written by the driver at all).
    """

    ROOT_NAME = 'pmu'
    FIELDS = (('enabled', None),)
    XML_ATTRS = ('state',)
    XML_CHILDREN = {}

    @property
    def name(self):
        return self.ROOT_NAME

    def format_dom(self):
        if not isinstance(self.enabled, bool):
            raise self._invalid('state', self.enabled,
                                _("must be True ('on') or False ('off')"))
        return self._new_node(state='on' if self.enabled else 'off')

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        state = xmldoc.get('state')
        if state not in ('on', 'off'):
            raise self._invalid('state', state, _("must be 'on' or 'off'"))
        self.enabled = state == 'on'


# ---------------------------------------------------------------------------
# <cputune>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestCPUTuneVCPUPin(LibvirtConfigObject):
    """``<vcpupin vcpu='id' cpuset='...'/>``: vCPU ``id`` on ``cpuset``."""

    ROOT_NAME = 'vcpupin'
    FIELDS = (('id', None), ('cpuset', None))
    XML_ATTRS = ('vcpu', 'cpuset')
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('cpuset')
        if self.id is None or self.id < 0:
            raise self._invalid('vcpu', self.id,
                                _('must be a vCPU number >= 0'))
        return self._new_node(vcpu=self.id, cpuset=_cpu_spec(self.cpuset))

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.id = _int(xmldoc.get('vcpu'))
        self.cpuset = _cpu_set(xmldoc.get('cpuset'))


class LibvirtConfigGuestCPUTuneEmulatorPin(LibvirtConfigObject):
    """``<emulatorpin cpuset='...'/>``: where the QEMU emulator threads run."""

    ROOT_NAME = 'emulatorpin'
    FIELDS = (('cpuset', None),)
    XML_ATTRS = ('cpuset',)
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('cpuset')
        return self._new_node(cpuset=_cpu_spec(self.cpuset))

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.cpuset = _cpu_set(xmldoc.get('cpuset'))


class LibvirtConfigGuestCPUTuneVCPUSched(LibvirtConfigObject):
    """``<vcpusched vcpus='...' scheduler='fifo' priority='N'/>``.

    libvirt's rules: ``fifo`` and ``rr`` are real-time policies and need a
    priority (the kernel accepts 1..99); ``batch`` and ``idle`` take none.
    ``vcpus`` None means every vCPU.
    """

    ROOT_NAME = 'vcpusched'
    FIELDS = (('vcpus', None), ('scheduler', None), ('priority', None))
    XML_ATTRS = ('vcpus', 'scheduler', 'priority')
    XML_CHILDREN = {}

    def validate(self):
        if self.scheduler in SCHEDULERS_WITH_PRIORITY:
            if (not isinstance(self.priority, int)
                    or isinstance(self.priority, bool)
                    or not MIN_RT_PRIORITY <= self.priority
                    <= MAX_RT_PRIORITY):
                raise self._invalid(
                    'priority', self.priority,
                    _("scheduler '%s' needs an integer priority from %d to %d")
                    % (self.scheduler, MIN_RT_PRIORITY, MAX_RT_PRIORITY))
        elif self.scheduler in SCHEDULERS_WITHOUT_PRIORITY:
            if self.priority is not None:
                raise self._invalid(
                    'priority', self.priority,
                    _("scheduler '%s' takes no priority (only %s do)")
                    % (self.scheduler,
                       ' and '.join(SCHEDULERS_WITH_PRIORITY)))
        else:
            raise self._invalid(
                'scheduler', self.scheduler, _(
                        'must be one of %s') % ', '.join(
                    SCHEDULERS_WITH_PRIORITY + SCHEDULERS_WITHOUT_PRIORITY))
        if self.vcpus is not None and not self.vcpus:
            raise self._invalid('vcpus', self.vcpus,
                                _('must name at least one vCPU (or be None '
                                  'for all vCPUs)'))

    def format_dom(self):
        self.validate()
        vcpus = _cpu_spec(self.vcpus) if self.vcpus is not None else None
        return self._new_node(vcpus=vcpus, scheduler=self.scheduler,
                              priority=self.priority)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.vcpus = _cpu_set(xmldoc.get('vcpus'))
        self.scheduler = xmldoc.get('scheduler')
        self.priority = _int(xmldoc.get('priority'))


class LibvirtConfigGuestCPUTune(LibvirtConfigObject):
    ROOT_NAME = 'cputune'
    FIELDS = (('vcpupin', list), ('emulatorpin', None), ('vcpusched', list))
    # <shares>, <period>, <quota>, <iothreadpin>... are kept as read.
    XML_CHILDREN = {'vcpupin': WHOLE, 'emulatorpin': WHOLE,
                    'vcpusched': WHOLE}

    def validate(self):
        """libvirt refuses two pins for one vCPU and overlapping scheds."""
        pinned = set()
        for pin in self.vcpupin:
            if pin.id in pinned:
                raise self._invalid('vcpu', pin.id, _('is pinned twice'),
                                    element='cputune/vcpupin')
            pinned.add(pin.id)
        scheduled = set()
        for sched in self.vcpusched:
            overlap = scheduled & (sched.vcpus or set())
            if overlap or (sched.vcpus is None and len(self.vcpusched) > 1):
                raise self._invalid(
                    'vcpus', sched.vcpus,
                    _('vcpusched entries must not overlap (vCPUs %s are in '
                      'more than one)') % (_cpu_spec(overlap) or 'all'),
                    element='cputune/vcpusched')
            scheduled |= sched.vcpus or set()

    def format_dom(self):
        self.validate()
        root = self._new_node()
        for pin in self.vcpupin:
            root.append(pin.format_dom())
        if self.emulatorpin is not None:
            root.append(self.emulatorpin.format_dom())
        for sched in self.vcpusched:
            root.append(sched.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        for child in xmldoc:
            if child.tag == 'vcpupin':
                self.vcpupin.append(
                    LibvirtConfigGuestCPUTuneVCPUPin.from_dom(child))
            elif child.tag == 'emulatorpin':
                self.emulatorpin = (
                    LibvirtConfigGuestCPUTuneEmulatorPin.from_dom(child))
            elif child.tag == 'vcpusched':
                self.vcpusched.append(
                    LibvirtConfigGuestCPUTuneVCPUSched.from_dom(child))


# ---------------------------------------------------------------------------
# <memoryBacking>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestMemoryBackingPage(LibvirtConfigObject):
    """``<page size='N' unit='KiB' nodeset='...'/>`` (nodeset: guest nodes)."""

    ROOT_NAME = 'page'
    FIELDS = (('size_kb', None), ('nodeset', None))
    XML_ATTRS = ('size', 'unit', 'nodeset')
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('size_kb')
        if self.nodeset is not None and not self.nodeset:
            raise self._invalid('nodeset', self.nodeset,
                                _('must name a guest node (or be None)'))
        nodeset = _cpu_spec(self.nodeset) if self.nodeset else None
        return self._new_node(size=self.size_kb, unit='KiB', nodeset=nodeset)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.size_kb = to_kib(xmldoc.get('size'), xmldoc.get('unit'))
        self.nodeset = _cpu_set(xmldoc.get('nodeset'))


class LibvirtConfigGuestMemoryBacking(LibvirtConfigObject):
    """``<memoryBacking>``: huge pages, ``<nosharepages/>`` (KSM off when
    ``sharedpages`` is False) and ``<locked/>`` (all guest and QEMU memory
    locked in RAM, as a real-time guest needs).
    """

    ROOT_NAME = 'memoryBacking'
    FIELDS = (('hugepages', list), ('sharedpages', True), ('locked', False))
    XML_CHILDREN = {'hugepages': _text_child(page=WHOLE),
                    'nosharepages': _text_child(),
                    'locked': _text_child()}

    def format_dom(self):
        root = self._new_node()
        if self.hugepages:
            pages = self._sub(root, 'hugepages')
            for page in self.hugepages:
                pages.append(page.format_dom())
        if not self.sharedpages:
            self._sub(root, 'nosharepages')
        if self.locked:
            self._sub(root, 'locked')
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        for child in xmldoc:
            if child.tag == 'hugepages':
                self.hugepages = [
                    LibvirtConfigGuestMemoryBackingPage.from_dom(page)
                    for page in child if page.tag == 'page']
            elif child.tag == 'nosharepages':
                self.sharedpages = False
            elif child.tag == 'locked':
                self.locked = True


# ---------------------------------------------------------------------------
# <numatune>
# ---------------------------------------------------------------------------
class _NUMATuneModeMixin:
    def _check_mode(self):
        if self.mode not in NUMA_MEMORY_MODES:
            raise self._invalid('mode', self.mode, _('must be one of %s')
                                % ', '.join(NUMA_MEMORY_MODES))


class LibvirtConfigGuestNUMATuneMemory(_NUMATuneModeMixin,
                                       LibvirtConfigObject):
    """``<memory mode='strict' nodeset='...'/>``: host nodes for all memory."""

    ROOT_NAME = 'memory'
    FIELDS = (('mode', 'strict'), ('nodeset', None))
    XML_ATTRS = ('mode', 'nodeset')
    XML_CHILDREN = {}

    def format_dom(self):
        self._check_mode()
        self._require('nodeset')
        return self._new_node(mode=self.mode, nodeset=_cpu_spec(self.nodeset))

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.mode = xmldoc.get('mode', 'strict')
        self.nodeset = _cpu_set(xmldoc.get('nodeset'))


class LibvirtConfigGuestNUMATuneMemNode(_NUMATuneModeMixin,
                                        LibvirtConfigObject):
    """``<memnode cellid='N' mode='strict' nodeset='...'/>``: guest node N's
    memory comes from host nodes ``nodeset``.
    """

    ROOT_NAME = 'memnode'
    FIELDS = (('cellid', None), ('mode', 'strict'), ('nodeset', None))
    XML_ATTRS = ('cellid', 'mode', 'nodeset')
    XML_CHILDREN = {}

    def format_dom(self):
        self._check_mode()
        self._require('nodeset')
        if self.cellid is None or self.cellid < 0:
            raise self._invalid('cellid', self.cellid,
                                _('must be a guest NUMA node number >= 0'))
        return self._new_node(cellid=self.cellid, mode=self.mode,
                              nodeset=_cpu_spec(self.nodeset))

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.cellid = _int(xmldoc.get('cellid'))
        # libvirt's default when the attribute is absent.
        self.mode = xmldoc.get('mode', 'strict')
        self.nodeset = _cpu_set(xmldoc.get('nodeset'))


class LibvirtConfigGuestNUMATune(LibvirtConfigObject):
    ROOT_NAME = 'numatune'
    FIELDS = (('memory', None), ('memnodes', list))
    XML_CHILDREN = {'memory': WHOLE, 'memnode': WHOLE}

    def format_dom(self):
        cellids = [node.cellid for node in self.memnodes]
        for cellid in cellids:
            if cellids.count(cellid) > 1:
                raise self._invalid('cellid', cellid,
                                    _('has more than one memnode'),
                                    element='numatune/memnode')
        root = self._new_node()
        if self.memory is not None:
            root.append(self.memory.format_dom())
        for node in self.memnodes:
            root.append(node.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        for child in xmldoc:
            if child.tag == 'memory':
                self.memory = LibvirtConfigGuestNUMATuneMemory.from_dom(child)
            elif child.tag == 'memnode':
                self.memnodes.append(
                    LibvirtConfigGuestNUMATuneMemNode.from_dom(child))


# ---------------------------------------------------------------------------
# <cpu>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestCPUTopology(LibvirtConfigObject):
    """``<topology sockets= dies= cores= threads=/>`` (guest, and host in
    caps). ``dies`` (per socket) is optional: libvirt fills in 1.
    """

    ROOT_NAME = 'topology'
    FIELDS = (('sockets', None), ('cores', None), ('threads', None),
              ('dies', None))
    XML_ATTRS = ('sockets', 'dies', 'cores', 'threads')
    XML_CHILDREN = {}

    def format_dom(self):
        for name in ('sockets', 'cores', 'threads'):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise self._invalid(name, value, _('must be an integer >= 1'))
        if self.dies is not None and (not isinstance(self.dies, int) or
                                      self.dies < 1):
            raise self._invalid('dies', self.dies,
                                _('must be an integer >= 1'))
        return self._new_node(sockets=self.sockets, dies=self.dies,
                              cores=self.cores, threads=self.threads)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.sockets = _int(xmldoc.get('sockets'))
        self.dies = _int(xmldoc.get('dies'))
        self.cores = _int(xmldoc.get('cores'))
        self.threads = _int(xmldoc.get('threads'))

    @property
    def vcpus(self):
        return self.sockets * (self.dies or 1) * self.cores * self.threads


class LibvirtConfigGuestCPUNUMACell(LibvirtConfigObject):
    """``<cell id= cpus= memory= unit='KiB' memAccess=/>``: one guest node.

    ``memAccess`` ('shared'/'private') keeps libvirt's attribute name.
    """

    ROOT_NAME = 'cell'
    FIELDS = (('id', None), ('cpus', None), ('memory', None),
              ('memAccess', None))
    XML_ATTRS = ('id', 'cpus', 'memory', 'unit', 'memAccess')
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('cpus', 'memory')
        if self.memAccess not in (None, 'shared', 'private'):
            raise self._invalid('memAccess', self.memAccess,
                                _("must be 'shared' or 'private'"))
        return self._new_node(id=self.id, cpus=_cpu_spec(self.cpus),
                              memory=self.memory, unit='KiB',
                              memAccess=self.memAccess)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.id = _int(xmldoc.get('id'))
        self.cpus = _cpu_set(xmldoc.get('cpus'))
        self.memory = to_kib(xmldoc.get('memory'), xmldoc.get('unit'))
        self.memAccess = xmldoc.get('memAccess')


class LibvirtConfigGuestCPUNUMA(LibvirtConfigObject):
    ROOT_NAME = 'numa'
    FIELDS = (('cells', list),)
    XML_CHILDREN = {'cell': WHOLE}

    def format_dom(self):
        if not self.cells:
            raise self._invalid('cells', self.cells,
                                _('a guest NUMA topology needs at least one '
                                  'cell'))
        root = self._new_node()
        for cell in self.cells:
            root.append(cell.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.cells = [LibvirtConfigGuestCPUNUMACell.from_dom(cell)
                      for cell in xmldoc if cell.tag == 'cell']


class LibvirtConfigGuestCPUFeature(LibvirtConfigObject):
    """``<feature policy='require' name='tsc-deadline'/>`` of a guest CPU.

    ``policy``: force, require, optional, disable or forbid (libvirt's
    words); ``name`` is a libvirt CPU feature name (cpu_map).
    """

    ROOT_NAME = 'feature'
    FIELDS = (('name', None), ('policy', 'require'))
    XML_ATTRS = ('name', 'policy')
    XML_CHILDREN = {}
    POLICIES = ('force', 'require', 'optional', 'disable', 'forbid')

    def format_dom(self):
        self._require('name')
        if self.policy not in self.POLICIES:
            raise self._invalid('policy', self.policy, _('must be one of %s')
                                % ', '.join(self.POLICIES),
                                element='cpu/feature')
        return self._new_node(policy=self.policy, name=self.name)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.name = xmldoc.get('name')
        self.policy = xmldoc.get('policy', 'require')


class LibvirtConfigGuestCPU(LibvirtConfigObject):
    """``<cpu mode= match= check=>``: model, topology, features and guest
    NUMA cells.

    ``features`` is a list of LibvirtConfigGuestCPUFeature (one per name:
    libvirt refuses a feature listed twice).
    """

    ROOT_NAME = 'cpu'
    FIELDS = (('mode', None), ('model', None), ('match', None),
              ('topology', None), ('numa', None), ('check', None),
              ('features', list))
    # <cache>, <vendor>, <model fallback=>... are kept as read.
    XML_ATTRS = ('mode', 'match', 'check')
    XML_CHILDREN = {'model': _text_child(), 'topology': WHOLE,
                    'feature': WHOLE, 'numa': WHOLE}
    MODES = ('custom', 'host-model', 'host-passthrough', 'maximum')
    MATCHES = ('minimum', 'exact', 'strict')
    CHECKS = ('none', 'partial', 'full')

    def format_dom(self):
        if self.mode is not None and self.mode not in self.MODES:
            raise self._invalid('mode', self.mode,
                                _('must be one of %s') % ', '.join(self.MODES))
        if self.match is not None and self.match not in self.MATCHES:
            raise self._invalid('match', self.match,
                                _('must be one of %s') % ', '.join(
                                        self.MATCHES))
        if self.check is not None and self.check not in self.CHECKS:
            raise self._invalid('check', self.check,
                                _('must be one of %s') % ', '.join(
                                        self.CHECKS))
        names = [feature.name for feature in self.features]
        for name in names:
            if names.count(name) > 1:
                raise self._invalid('name', name, _('is listed twice'),
                                    element='cpu/feature')
        root = self._new_node(mode=self.mode, match=self.match,
                              check=self.check)
        if self.model is not None:
            self._sub(root, 'model', self.model)
        if self.topology is not None:
            root.append(self.topology.format_dom())
        for feature in self.features:
            root.append(feature.format_dom())
        if self.numa is not None:
            root.append(self.numa.format_dom())
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.mode = xmldoc.get('mode')
        self.match = xmldoc.get('match')
        self.check = xmldoc.get('check')
        for child in xmldoc:
            if child.tag == 'model':
                self.model = child.text
            elif child.tag == 'topology':
                self.topology = LibvirtConfigGuestCPUTopology.from_dom(child)
            elif child.tag == 'feature':
                self.features.append(
                    LibvirtConfigGuestCPUFeature.from_dom(child))
            elif child.tag == 'numa':
                self.numa = LibvirtConfigGuestCPUNUMA.from_dom(child)


# ---------------------------------------------------------------------------
# <memtune>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestMemoryTune(LibvirtConfigObject):
    """``<memtune>``: memory limits of the whole QEMU process, KiB.

    ``hard_limit`` caps what the guest and QEMU together may use (the
    memory cgroup limit); with ``<locked/>`` libvirt also uses it as the
    locked-memory limit (RLIMIT_MEMLOCK) instead of lifting that limit
    entirely. ``soft_limit`` applies under memory contention,
    ``swap_hard_limit`` caps memory plus swap, ``min_guarantee`` is the
    memory the guest is guaranteed (written as set; libvirt's QEMU driver
    refuses it when the domain is defined: only VMware ESX and OpenVZ
    support it).
    """

    ROOT_NAME = 'memtune'
    FIELDS = (('hard_limit', None), ('soft_limit', None),
              ('swap_hard_limit', None), ('min_guarantee', None))
    LIMITS = ('hard_limit', 'soft_limit', 'swap_hard_limit', 'min_guarantee')
    XML_CHILDREN = {name: _text_child('unit') for name in LIMITS}

    def format_dom(self):
        root = self._new_node()
        for name in self.LIMITS:
            value = getattr(self, name)
            if value is None:
                continue
            if (not isinstance(value, int) or isinstance(value, bool)
                    or value < 0):
                raise self._invalid(name, value,
                                    _('must be a whole number of KiB >= 0'))
            self._sub(root, name, value, unit='KiB')
        if (self.hard_limit is not None and self.swap_hard_limit is not None
                and self.swap_hard_limit < self.hard_limit):
            raise self._invalid('swap_hard_limit', self.swap_hard_limit,
                                _('must be at least hard_limit (%d KiB)')
                                % self.hard_limit)
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        for child in xmldoc:
            if child.tag in self.LIMITS:
                setattr(self, child.tag,
                        to_kib(child.text, child.get('unit')))


# ---------------------------------------------------------------------------
# <devices>
# ---------------------------------------------------------------------------
class _LibvirtConfigGuestCharBase(LibvirtConfigObject):
    """Shared by <serial> and <console>: a 'pty' or a 'file' (source_path)."""

    FIELDS = (('type', 'pty'), ('source_path', None), ('target_type', None),
              ('target_port', None))
    XML_ATTRS = ('type',)
    XML_CHILDREN = {'source': _text_child('path'),
                    'target': _text_child('type', 'port')}
    TYPES = ('pty', 'file')

    def format_dom(self):
        if self.type not in self.TYPES:
            raise self._invalid('type', self.type,
                                _('must be one of %s') % ', '.join(self.TYPES))
        if self.type == 'file' and not self.source_path:
            raise self._invalid('source_path', self.source_path,
                                _("a 'file' character device needs a path"))
        root = self._new_node(type=self.type)
        if self.source_path is not None:
            self._sub(root, 'source', path=self.source_path)
        if self.target_type is not None or self.target_port is not None:
            self._sub(root, 'target', type=self.target_type,
                      port=self.target_port)
        return root

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.type = xmldoc.get('type')
        for child in xmldoc:
            if child.tag == 'source':
                self.source_path = child.get('path')
            elif child.tag == 'target':
                self.target_type = child.get('type')
                self.target_port = _int(child.get('port'))


class LibvirtConfigGuestSerial(_LibvirtConfigGuestCharBase):
    ROOT_NAME = 'serial'


class LibvirtConfigGuestConsole(_LibvirtConfigGuestCharBase):
    """``<console type='pty'><target type='serial'/></console>``."""

    ROOT_NAME = 'console'
    FIELDS = (('type', 'pty'), ('source_path', None),
              ('target_type', 'serial'), ('target_port', None))


class LibvirtConfigGuestMemballoon(LibvirtConfigObject):
    """``<memballoon model=/>``; 'none' turns the balloon off."""

    ROOT_NAME = 'memballoon'
    FIELDS = (('model', 'virtio'),)
    XML_ATTRS = ('model',)
    XML_CHILDREN = {}
    MODELS = ('virtio', 'virtio-transitional', 'virtio-non-transitional',
              'xen', 'none')

    def format_dom(self):
        if self.model not in self.MODELS:
            raise self._invalid('model', self.model,
                                _('must be one of %s') % ', '.join(
                                        self.MODELS))
        return self._new_node(model=self.model)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.model = xmldoc.get('model')


class LibvirtConfigGuestController(LibvirtConfigObject):
    """``<controller type= index= model=/>`` without children.

    Written for ``<controller type='usb' model='none'/>``: x86 machine
    types get a USB controller by default; model 'none' asks for none. A
    controller libvirt has expanded (with <address>, <alias>...) parses as
    a LibvirtConfigRawElement instead, so nothing is lost.
    """

    ROOT_NAME = 'controller'
    FIELDS = (('type', None), ('index', None), ('model', None))
    ATTRIBUTES = ('type', 'index', 'model')
    XML_ATTRS = ATTRIBUTES
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('type')
        if self.index is not None and (
                not isinstance(self.index, int) or self.index < 0):
            raise self._invalid('index', self.index,
                                _('must be an integer >= 0'))
        return self._new_node(type=self.type, index=self.index,
                              model=self.model)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.type = xmldoc.get('type')
        self.index = _int(xmldoc.get('index'))
        self.model = xmldoc.get('model')

    @classmethod
    def modelled(cls, node):
        """Whether ``node`` holds nothing this class would drop."""
        return len(node) == 0 and set(node.attrib) <= set(cls.ATTRIBUTES)


class LibvirtConfigGuestEmulator(LibvirtConfigObject):
    """``<emulator>/path</emulator>``; optional, libvirt picks one if unset."""

    ROOT_NAME = 'emulator'
    FIELDS = (('path', None),)
    XML_CHILDREN = {}

    def format_dom(self):
        self._require('path')
        node = self._new_node()
        node.text = self.path
        return node

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.path = xmldoc.text


_DEVICE_CLASSES = {
    'serial': LibvirtConfigGuestSerial,
    'console': LibvirtConfigGuestConsole,
    'memballoon': LibvirtConfigGuestMemballoon,
    'emulator': LibvirtConfigGuestEmulator,
    'controller': LibvirtConfigGuestController,
}


# ---------------------------------------------------------------------------
# <metadata>
# ---------------------------------------------------------------------------
class LibvirtConfigGuestMetaNovaRealtime(LibvirtConfigObject):
    """What nova-realtime records in the domain's ``<metadata>``.

    Enough to rebuild, after a restart, which host pCPUs this guest holds
    without asking anything but libvirt: ``claimed_pcpus`` (set of host
    pCPUs: vCPU pins plus reserved emulator pCPUs) and ``numa_topology``, the
    JSON of the fitted InstanceNUMATopology's ``obj_to_primitive()``. The
    flavor fields and ``realtime_vcpus`` (set of guest vCPUs) are for people
    reading ``virsh dumpxml``.
    """

    ROOT_NAME = 'instance'
    NAMESPACE = NOVA_RT_NS
    NS_PREFIX = NOVA_RT_PREFIX
    FIELDS = (('flavor_name', None), ('vcpus', None), ('memory_mb', None),
              ('extra_specs', dict), ('realtime_vcpus', set),
              ('emulator_threads_policy', None), ('numa_topology', None),
              ('claimed_pcpus', set))
    XML_CHILDREN = {
        tag: _text_child(*attrs, **{'extra_spec': _text_child('key', 'value'),
                                    '{%s}extra_spec' % NOVA_RT_NS:
                                    _text_child('key', 'value')})
        for name, attrs in (
            ('flavor', ('name', 'vcpus', 'memory_mb')),
            ('realtime', ('vcpus', 'emulator_threads_policy')),
            ('claimed_pcpus', ()), ('numa_topology', ()))
        for tag in (name, '{%s}%s' % (NOVA_RT_NS, name))}

    def format_dom(self):
        root = self._new_node()
        if (self.flavor_name is not None or self.vcpus is not None
                or self.memory_mb is not None or self.extra_specs):
            flavor = self._sub(root, 'flavor', name=self.flavor_name,
                               vcpus=self.vcpus, memory_mb=self.memory_mb)
            for key in sorted(self.extra_specs):
                self._sub(flavor, 'extra_spec', key=key,
                          value=self.extra_specs[key])
        if self.realtime_vcpus or self.emulator_threads_policy is not None:
            rt_vcpus = (_cpu_spec(self.realtime_vcpus)
                        if self.realtime_vcpus else None)
            self._sub(root, 'realtime', vcpus=rt_vcpus,
                      emulator_threads_policy=self.emulator_threads_policy)
        if self.claimed_pcpus:
            self._sub(root, 'claimed_pcpus', _cpu_spec(self.claimed_pcpus))
        if self.numa_topology is not None:
            self._sub(root, 'numa_topology', self.numa_topology)
        return root

    def parse_dom(self, xmldoc):
        # virDomainGetMetadata() hands the element back without its
        # namespace, so accept <instance> as well as <nrt:instance>.
        bare = xmldoc.tag == self.ROOT_NAME
        if not bare:
            super().parse_dom(xmldoc)

        def tag(name):
            return name if bare else self._qname(name)

        for child in xmldoc:
            if child.tag == tag('flavor'):
                self.flavor_name = child.get('name')
                self.vcpus = _int(child.get('vcpus'))
                self.memory_mb = _int(child.get('memory_mb'))
                self.extra_specs = {
                    spec.get('key'): spec.get('value') for spec in child
                    if spec.tag == tag('extra_spec')}
            elif child.tag == tag('realtime'):
                self.realtime_vcpus = _cpu_set(child.get('vcpus')) or set()
                self.emulator_threads_policy = child.get(
                    'emulator_threads_policy')
            elif child.tag == tag('claimed_pcpus'):
                self.claimed_pcpus = _cpu_set(child.text or '') or set()
            elif child.tag == tag('numa_topology'):
                self.numa_topology = child.text or ''

    def set_numa_topology(self, instance_numa_topology):
        """Store a fitted InstanceNUMATopology as JSON.

        Read it back with ``InstanceNUMATopology.obj_from_primitive(
        json.loads(meta.numa_topology))``. The change lists are left out
        (they would make the text differ from run to run).
        """
        self.numa_topology = json.dumps(
            _drop_changes(instance_numa_topology.obj_to_primitive()),
            sort_keys=True, default=sorted)


# ---------------------------------------------------------------------------
# <domain>
# ---------------------------------------------------------------------------
class LibvirtConfigGuest(LibvirtConfigObject):
    """A whole ``<domain>``.

    ``memory`` is KiB, ``vcpus`` an int, ``cpuset`` (optional set) the host
    pCPUs unpinned vCPUs may float over. ``metadata`` holds
    LibvirtConfigGuestMetaNovaRealtime and/or LibvirtConfigRawElement;
    ``devices`` holds device objects (unknown ones parse as raw elements).
    """

    ROOT_NAME = 'domain'
    FIELDS = (
        ('virt_type', 'kvm'), ('name', None), ('uuid', None),
        ('description', None), ('metadata', list),
        ('memory', None), ('memtune', None), ('membacking', None),
        ('vcpus', 1), ('cpuset', None), ('vcpu_placement', None),
        ('cputune', None), ('numatune', None),
        ('os_type', 'hvm'), ('os_arch', None), ('os_machine', None),
        ('os_kernel', None), ('os_initrd', None), ('os_cmdline', None),
        ('os_boot_dev', list),
        ('features', list), ('cpu', None),
        ('on_poweroff', None), ('on_reboot', None), ('on_crash', None),
        ('devices', list),
    )
    LIFECYCLE_ACTIONS = ('destroy', 'restart', 'preserve', 'rename-restart',
                         'coredump-destroy', 'coredump-restart')
    # <currentMemory>, <clock>, <pm>, <resource>, <seclabel>, <os><loader>,
    # <vcpu current=>... are kept as read.
    XML_ATTRS = ('type',)
    XML_CHILDREN = dict(
        {tag: _text_child() for tag in (
            'name', 'uuid', 'description', 'on_poweroff', 'on_reboot',
            'on_crash')},
        memory=_text_child('unit'),
        vcpu=_text_child('placement', 'cpuset'),
        memoryBacking=WHOLE, memtune=WHOLE, cputune=WHOLE, numatune=WHOLE,
        cpu=WHOLE,
        os=_text_child(type=_text_child('arch', 'machine'),
                       kernel=_text_child(), initrd=_text_child(),
                       cmdline=_text_child(), boot=_text_child('dev')),
        features=_text_child(**{EVERY: WHOLE}),
        metadata=_text_child(**{EVERY: WHOLE}),
        devices=_text_child(**{EVERY: WHOLE}))

    def validate(self):
        """Check the cross-element rules libvirt enforces at define time."""
        if self.virt_type not in VIRT_TYPES:
            raise self._invalid('type', self.virt_type,
                                _('must be one of %s') % ', '.join(VIRT_TYPES))
        self._require('name', 'memory')
        if not isinstance(self.vcpus, int) or self.vcpus < 1:
            raise self._invalid('vcpu', self.vcpus,
                                _('must be an integer >= 1'))
        for event in ('on_poweroff', 'on_reboot', 'on_crash'):
            value = getattr(self, event)
            if value is not None and value not in self.LIFECYCLE_ACTIONS:
                raise self._invalid(event, value, _('must be one of %s')
                                    % ', '.join(self.LIFECYCLE_ACTIONS))
        feature_names = [feature.name for feature in self.features
                         if isinstance(feature, (
                             LibvirtConfigGuestFeature,
                             LibvirtConfigGuestFeaturePMU))]
        for name in feature_names:
            if feature_names.count(name) > 1:
                raise self._invalid('feature', name, _('is listed twice'),
                                    element='features')
        for cls in (LibvirtConfigGuestMemballoon, LibvirtConfigGuestEmulator):
            found = [d for d in self.devices if isinstance(d, cls)]
            if len(found) > 1:
                raise self._invalid(cls.ROOT_NAME, len(found),
                                    _('a domain has at most one'),
                                    element='devices')
        if (self.memtune is not None and self.memtune.min_guarantee is not None
                and self.virt_type in ('kvm', 'qemu')):
            raise self._invalid(
                'min_guarantee', self.memtune.min_guarantee,
                _("libvirt's QEMU driver does not support it (only VMware "
                  "ESX and OpenVZ do)"), element='memtune')
        vcpu_ids = set(range(self.vcpus))
        if self.cputune is not None:
            for pin in self.cputune.vcpupin:
                if pin.id not in vcpu_ids:
                    raise self._invalid(
                        'vcpu', pin.id, _('pins a vCPU the %d-vCPU guest does '
                          'not have') % self.vcpus, element='cputune/vcpupin')
            for sched in self.cputune.vcpusched:
                if sched.vcpus and not sched.vcpus <= vcpu_ids:
                    raise self._invalid(
                        'vcpus', _cpu_spec(sched.vcpus),
                        _('names vCPUs the %d-vCPU guest does not have')
                        % self.vcpus, element='cputune/vcpusched')
        if self.cpu is not None and self.cpu.topology is not None:
            topo = self.cpu.topology
            if None not in (topo.sockets, topo.cores, topo.threads) and (
                    topo.vcpus != self.vcpus):
                raise self._invalid(
                    'sockets*cores*threads', topo.vcpus,
                    _('must equal the vCPU count %d') % self.vcpus,
                    element='cpu/topology')
        if self.cpu is not None and self.cpu.numa is not None:
            cell_cpus = set().union(*(cell.cpus or set()
                                      for cell in self.cpu.numa.cells))
            if not cell_cpus <= vcpu_ids:
                raise self._invalid(
                    'cpus', _cpu_spec(cell_cpus),
                    _('NUMA cells name vCPUs the %d-vCPU guest does not have')
                    % self.vcpus, element='cpu/numa/cell')

    def format_dom(self):
        self.validate()
        root = self._new_node(type=self.virt_type)
        self._sub(root, 'name', self.name)
        if self.uuid is not None:
            self._sub(root, 'uuid', self.uuid)
        if self.description is not None:
            self._sub(root, 'description', self.description)
        if self.metadata:
            meta = self._sub(root, 'metadata')
            for item in self.metadata:
                meta.append(item.format_dom())
        self._sub(root, 'memory', self.memory, unit='KiB')
        if self.memtune is not None:
            root.append(self.memtune.format_dom())
        if self.membacking is not None:
            root.append(self.membacking.format_dom())
        cpuset = _cpu_spec(self.cpuset) if self.cpuset else None
        self._sub(root, 'vcpu', self.vcpus, placement=self.vcpu_placement,
                  cpuset=cpuset)
        if self.cputune is not None:
            root.append(self.cputune.format_dom())
        if self.numatune is not None:
            root.append(self.numatune.format_dom())
        root.append(self._format_os())
        if self.features:
            features = self._sub(root, 'features')
            for feature in self.features:
                features.append(feature.format_dom())
        if self.cpu is not None:
            root.append(self.cpu.format_dom())
        for event in ('on_poweroff', 'on_reboot', 'on_crash'):
            if getattr(self, event) is not None:
                self._sub(root, event, getattr(self, event))
        if self.devices:
            devices = self._sub(root, 'devices')
            for device in self.devices:
                devices.append(device.format_dom())
        return root

    def _format_os(self):
        os_node = etree.Element('os')
        self._sub(os_node, 'type', self.os_type, arch=self.os_arch,
                  machine=self.os_machine)
        if self.os_kernel is not None:
            self._sub(os_node, 'kernel', self.os_kernel)
        if self.os_initrd is not None:
            self._sub(os_node, 'initrd', self.os_initrd)
        if self.os_cmdline is not None:
            self._sub(os_node, 'cmdline', self.os_cmdline)
        for dev in self.os_boot_dev:
            self._sub(os_node, 'boot', dev=dev)
        return os_node

    def _parse_os(self, os):
        for child in os:
            if child.tag == 'type':
                self.os_type = child.text
                self.os_arch = child.get('arch')
                self.os_machine = child.get('machine')
            elif child.tag == 'kernel':
                self.os_kernel = child.text
            elif child.tag == 'initrd':
                self.os_initrd = child.text
            elif child.tag == 'cmdline':
                self.os_cmdline = child.text or ''
            elif child.tag == 'boot':
                self.os_boot_dev.append(child.get('dev'))

    @staticmethod
    def _parse_feature(node):
        if node.tag == 'pmu' and len(node) == 0 and \
                node.attrib == {'state': node.get('state')} and \
                node.get('state') in ('on', 'off'):
            return LibvirtConfigGuestFeaturePMU.from_dom(node)
        if len(node) == 0 and set(node.attrib) <= {'state'}:
            return LibvirtConfigGuestFeature.from_dom(node)
        return LibvirtConfigRawElement.from_dom(node)

    @staticmethod
    def _parse_metadata(node):
        if node.tag == '{%s}instance' % NOVA_RT_NS:
            try:
                return LibvirtConfigGuestMetaNovaRealtime.from_dom(node)
            except (exception.Invalid, ValueError, TypeError) as e:
                # Damaged or hand-edited: keep it verbatim (the domain
                # still lists; host usage never relies on it).
                LOG.debug('Unreadable nova-realtime metadata: %s', e)
        return LibvirtConfigRawElement.from_dom(node)

    @staticmethod
    def _parse_device(node):
        cls = _DEVICE_CLASSES.get(node.tag, LibvirtConfigRawElement)
        if cls is LibvirtConfigGuestController and not cls.modelled(node):
            cls = LibvirtConfigRawElement
        return cls.from_dom(node)

    def parse_dom(self, xmldoc):
        super().parse_dom(xmldoc)
        self.virt_type = xmldoc.get('type')
        simple = {'name': 'name', 'uuid': 'uuid', 'description': 'description',
                  'on_poweroff': 'on_poweroff', 'on_reboot': 'on_reboot',
                  'on_crash': 'on_crash'}
        parsers = {
            'memoryBacking': ('membacking', LibvirtConfigGuestMemoryBacking),
            'memtune': ('memtune', LibvirtConfigGuestMemoryTune),
            'cputune': ('cputune', LibvirtConfigGuestCPUTune),
            'numatune': ('numatune', LibvirtConfigGuestNUMATune),
            'cpu': ('cpu', LibvirtConfigGuestCPU),
        }
        for child in xmldoc:
            if child.tag in simple:
                setattr(self, simple[child.tag], child.text)
            elif child.tag in parsers:
                attr, cls = parsers[child.tag]
                setattr(self, attr, cls.from_dom(child))
            elif child.tag == 'memory':
                self.memory = to_kib(child.text, child.get('unit'))
            elif child.tag == 'vcpu':
                self.vcpus = int(child.text)
                self.cpuset = _cpu_set(child.get('cpuset'))
                self.vcpu_placement = child.get('placement')
            elif child.tag == 'os':
                self._parse_os(child)
            elif child.tag == 'features':
                self.features = [self._parse_feature(f) for f in child
                                 if isinstance(f.tag, str)]
            elif child.tag == 'metadata':
                self.metadata = [self._parse_metadata(m) for m in child
                                 if isinstance(m.tag, str)]
            elif child.tag == 'devices':
                self.devices = [self._parse_device(d) for d in child
                                if isinstance(d.tag, str)]

    def get_metadata(self, cls=LibvirtConfigGuestMetaNovaRealtime):
        """The first metadata child of class ``cls``, or None."""
        for item in self.metadata:
            if isinstance(item, cls):
                return item
        return None
