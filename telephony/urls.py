"""URLs of the numbers app: Twilio webhooks (public contract), dashboard pages, /api/calls/ and /api/messages/."""

from __future__ import annotations

from django.urls import path

from telephony import webhooks
from telephony.views import api, api_messages, conversations, forwarding, logs, number, people, simulate

app_name = "telephony"

urlpatterns = [
    # Twilio webhooks (DESIGN.md's public contract)
    path("webhooks/twilio/sms/", webhooks.sms, name="webhook-sms"),
    path("webhooks/twilio/sms/status/", webhooks.sms_status, name="webhook-sms-status"),
    path("webhooks/twilio/voice/", webhooks.voice, name="webhook-voice"),
    path("webhooks/twilio/voice/status/", webhooks.voice_status, name="webhook-voice-status"),
    path("webhooks/twilio/voicemail/", webhooks.voicemail_recorded, name="webhook-voicemail"),
    # API
    path("api/calls/", api.calls, name="api-calls"),
    path("api/messages/", api_messages.messages, name="api-messages"),
    # Dashboard
    path("dashboard/number/", number.number_page, name="number"),
    path("dashboard/number/buy/", number.buy, name="number-buy"),
    path("dashboard/number/release/", number.release, name="number-release"),
    path("dashboard/calls/", logs.calls, name="calls"),
    path("dashboard/messages/", conversations.messages_home, name="messages"),
    path("dashboard/voicemail/", logs.voicemail_list, name="voicemail-list"),
    path("dashboard/voicemail/<int:pk>/audio/", logs.voicemail_audio, name="voicemail-audio"),
    path("dashboard/voicemail/<int:pk>/heard/", logs.voicemail_heard, name="voicemail-heard"),
    path("dashboard/voicemail/<int:pk>/delete/", logs.voicemail_delete, name="voicemail-delete"),
    path("dashboard/forwarding/", forwarding.settings_page, name="settings"),
    path("dashboard/forwarding/email/", forwarding.set_email, name="set-email"),
    path("dashboard/forwarding/email/<str:token>/", forwarding.verify_email, name="verify-email"),
    path("dashboard/forwarding/phone/", forwarding.set_phone, name="set-phone"),
    path("dashboard/forwarding/phone/confirm/", forwarding.confirm_phone, name="confirm-phone"),
    path("dashboard/forwarding/preferences/", forwarding.set_preferences, name="preferences"),
    path("dashboard/forwarding/block/", forwarding.block, name="block"),
    path("dashboard/forwarding/block/<int:pk>/delete/", forwarding.unblock, name="unblock"),
    path("dashboard/messages/send/", forwarding.send, name="send-sms"),
    path("dashboard/messages/<str:peer>/", conversations.thread, name="thread"),
    path("dashboard/messages/<str:peer>/statuses/", conversations.thread_statuses, name="thread-statuses"),
    path("dashboard/people/", people.address_book, name="people"),
    path("dashboard/people/name/", people.name, name="name-number"),
    path("dashboard/people/<int:pk>/remove/", people.remove, name="remove-name"),
    path("dashboard/simulate/", simulate.simulate, name="simulate"),
    path("dashboard/simulate/sent/", simulate.sent_texts, name="simulate-sent"),
]
