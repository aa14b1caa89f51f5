"""The contacts API and the ICE servers endpoint for the NumFree Caller extension."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from numfree.api_errors import ApiError
from signaling import contacts
from signaling.ice import ice_configuration

STATUS_HTTP = {"not_found": 404, "invalid": 400}


class ContactSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    status = serializers.ChoiceField(choices=["mutual", "outgoing", "incoming"])


class ContactRequest(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


def _contact_call(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except contacts.ContactError as exc:
        raise ApiError(exc.code, exc.message, status_code=STATUS_HTTP.get(exc.code, 400)) from None


class ContactListView(APIView):
    @extend_schema(operation_id="contacts_list", responses={200: ContactSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response([c.as_dict() for c in contacts.list_contacts(request.user)])

    @extend_schema(
        operation_id="contacts_ask",
        summary="Ask someone to be a contact (the same answer whether or not the email has an account)",
        request=ContactRequest,
        responses={201: ContactSerializer},
    )
    def post(self, request: Request) -> Response:
        data = ContactRequest(data=request.data)
        data.is_valid(raise_exception=True)
        view = _contact_call(contacts.ask, request.user, data.validated_data["email"])
        return Response(view.as_dict(), status=status.HTTP_201_CREATED)


class ContactDetailView(APIView):
    @extend_schema(operation_id="contacts_remove", responses={204: None})
    def delete(self, request: Request, contact_id: str) -> Response:
        _contact_call(contacts.remove, request.user, contact_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactAcceptView(APIView):
    @extend_schema(operation_id="contacts_accept", request=None, responses={200: ContactSerializer})
    def post(self, request: Request, contact_id: str) -> Response:
        return Response(_contact_call(contacts.accept, request.user, contact_id).as_dict())


class ContactBlockView(APIView):
    @extend_schema(operation_id="contacts_block", request=None, responses={204: None})
    def post(self, request: Request, contact_id: str) -> Response:
        _contact_call(contacts.block, request.user, contact_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class IceServersView(APIView):
    @extend_schema(
        operation_id="signaling_ice_servers",
        summary="The RTCConfiguration for calls (the deployment's own STUN/TURN only)",
        responses={
            200: inline_serializer(
                "RTCConfiguration",
                {
                    "iceServers": serializers.ListField(child=serializers.DictField()),
                    "iceTransportPolicy": serializers.CharField(),
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        return Response(ice_configuration(), headers={"Cache-Control": "no-store"})
