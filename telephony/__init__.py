"""Numbers: the Twilio number, call and SMS logs, voicemail, forwarding."""
