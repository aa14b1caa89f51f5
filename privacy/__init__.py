"""Privacy: policy pages, privacy center, data-subject requests, retention, usage data."""
