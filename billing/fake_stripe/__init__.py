"""A local fake of the few Stripe endpoints NumFree uses (DEBUG and tests only), below the official SDK."""
