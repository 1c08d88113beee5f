# gunicorn for the web containers. No access log: it would hold addresses and paths.
# Workers: gunicorn reads WEB_CONCURRENCY itself (default 2 per container).
bind = "0.0.0.0:8000"
accesslog = None
errorlog = "-"
loglevel = "warning"
worker_tmp_dir = "/dev/shm"  # noqa: S108 - heartbeat files in memory, not on a read-only disk
timeout = 30
graceful_timeout = 30
# The app is imported once in the master and forked: a worker starts in milliseconds
# and the workers share the imported code's memory. (wsgi.py closes the master's
# database connection after its start-up check, so no worker inherits a socket.)
preload_app = True
# Recycling guards against a slow leak. It used to be every 2,000 requests, which at
# load meant every few seconds per worker, and each restart stalled its queue
# (bench/README.md); forked from a preloaded master a restart is cheap, and rare.
max_requests = 20000
max_requests_jitter = 2000
forwarded_allow_ips = "*"
