"""Billing: plans, Stripe subscriptions, Checkout and the Customer Portal."""
