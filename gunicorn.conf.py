# gunicorn for the web containers. No access log: it would hold addresses and paths.
# Workers: gunicorn reads WEB_CONCURRENCY itself (default 2 per container).
bind = "0.0.0.0:8000"
accesslog = None
errorlog = "-"
loglevel = "warning"
worker_tmp_dir = "/dev/shm"  # noqa: S108 - heartbeat files in memory, not on a read-only disk
timeout = 30
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = "*"
