"""Accounts: users (email login), sign-in families for the JWT API, sign-up and verification."""
