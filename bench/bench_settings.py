"""Settings for bench/webhooks.py: the product's settings plus one trivial view to compare against."""

import os

from numfree.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"

# bench/webhooks.py --db-pool: Django's PostgreSQL connection pool (psycopg_pool), to measure
# what a connection per request costs (CONN_MAX_AGE=0 opens one for every request under ASGI).
if os.environ.get("NUMFREE_BENCH_DB_POOL") and DATABASE_IS_POSTGRES:  # noqa: F405
    DATABASES["default"]["OPTIONS"] = {  # noqa: F405
        **DATABASES["default"].get("OPTIONS", {}),  # noqa: F405
        "pool": {"min_size": 4, "max_size": HTTP_CONCURRENCY, "timeout": 10},  # noqa: F405
    }
