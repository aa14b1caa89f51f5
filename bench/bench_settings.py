"""Settings for bench/webhooks.py: the product's settings plus one trivial view to compare against."""

from numfree.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
