"""How every form renders its fields: labels without Django's ":" suffix, like the labels written by hand.

settings.FORM_RENDERER names FormRenderer, so each form (ours, django.contrib.auth's, the admin's)
gets SuffixlessBoundField without a base class of its own; a field or a call that asks for a suffix
still gets it.
"""

from __future__ import annotations

from typing import Any

from django.forms.boundfield import BoundField
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import SafeString


class SuffixlessBoundField(BoundField):
    def _suffix(self, label_suffix: str | None) -> str:
        if label_suffix is not None:
            return label_suffix
        return self.field.label_suffix if self.field.label_suffix is not None else ""

    def label_tag(
        self, contents: Any = None, attrs: Any = None, label_suffix: str | None = None, tag: str | None = None
    ) -> SafeString:
        return super().label_tag(contents, attrs, self._suffix(label_suffix), tag)

    def legend_tag(self, contents: Any = None, attrs: Any = None, label_suffix: str | None = None) -> SafeString:
        return super().legend_tag(contents, attrs, self._suffix(label_suffix))


class FormRenderer(DjangoTemplates):
    bound_field_class = SuffixlessBoundField
