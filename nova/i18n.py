"""oslo.i18n integration: ``_`` marks user-facing messages."""

import oslo_i18n

_translators = oslo_i18n.TranslatorFactory(domain='nova')

_ = _translators.primary
