"""Two-factor sign-in: TOTP codes from an authenticator app plus one-time recovery codes."""
