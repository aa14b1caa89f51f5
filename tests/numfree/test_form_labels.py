"""Form labels read the same on every page: no Django ":" suffix, on our forms and django.contrib's."""

from __future__ import annotations

import re

import pytest
from django import forms

pytestmark = pytest.mark.django_db

LABEL = re.compile(r"<(label|legend)\b[^>]*>(.*?)</\1>", re.S)


def _labels(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", text).strip() for _tag, text in LABEL.findall(html)]


@pytest.mark.parametrize("path", ["/signup/", "/login/", "/password-reset/"])
def test_public_forms_have_labels_without_a_colon(client, path: str) -> None:
    labels = _labels(client.get(path).content.decode())
    assert labels and not [label for label in labels if label.endswith(":")], labels


@pytest.mark.parametrize("path", ["/dashboard/forwarding/", "/account/", "/dashboard/people/"])
def test_signed_in_forms_have_labels_without_a_colon(alice_client, path: str) -> None:
    labels = _labels(alice_client.get(path).content.decode())
    assert labels and not [label for label in labels if label.endswith(":")], labels


def test_a_field_or_a_call_that_asks_for_a_suffix_still_gets_it() -> None:
    class Asking(forms.Form):
        plain = forms.CharField(label="Plain")
        marked = forms.CharField(label="Marked", label_suffix=" →")
        choice = forms.ChoiceField(label="Pick", choices=[("a", "A")], widget=forms.RadioSelect)

    form = Asking()
    assert form["plain"].label_tag() == '<label for="id_plain">Plain</label>'
    assert form["marked"].label_tag() == '<label for="id_marked">Marked →</label>'
    assert form["plain"].label_tag(label_suffix="?") == '<label for="id_plain">Plain?</label>'
    assert "<legend>Pick</legend>" in str(form["choice"].as_field_group())
