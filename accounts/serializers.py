"""Request and response shapes of the accounts API (also what /api/schema/ documents)."""

from __future__ import annotations

from rest_framework import serializers

from accounts.display_names import validate_display_name
from numfree.errors import ERROR_CODES


class TokenObtainRequest(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenPairResponse(serializers.Serializer):
    access = serializers.CharField(
        help_text="Access JWT, valid for 5 minutes; send as 'Authorization: Bearer <access>'."
    )
    refresh = serializers.CharField(help_text="Refresh JWT; single use: each refresh answers a new one.")


class RefreshRequest(serializers.Serializer):
    refresh = serializers.CharField(max_length=4096)


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField(read_only=True)
    name = serializers.CharField(max_length=150, allow_blank=True)
    email_verified = serializers.BooleanField(read_only=True)
    number = serializers.CharField(
        read_only=True, allow_null=True, help_text="The user's NumFree number in E.164 (+15551234567), or null."
    )


class MeUpdateRequest(serializers.Serializer):
    name = serializers.CharField(
        max_length=150,
        allow_blank=True,
        validators=[validate_display_name],
        help_text="One line of text: line breaks, tabs and invisible control characters are refused.",
    )

    def validate(self, attrs: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(self.initial_data) - set(self.fields)) if isinstance(self.initial_data, dict) else []
        if unknown:
            raise serializers.ValidationError({unknown[0]: "Only name can be changed here."})
        return attrs


class ErrorResponse(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(ERROR_CODES), help_text="From the closed list in docs/errors.md.")
    message = serializers.CharField(help_text="A sentence for people; may change, do not parse it.")
