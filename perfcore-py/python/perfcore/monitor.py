"""Live monitoring: system metrics, application metrics, alert rules and sinks, and the
Prometheus endpoint a real Prometheus scrapes (the Rust crate's ``perfcore::monitor``).

A service starts a monitor and an endpoint once, at start-up::

    from perfcore import monitor

    mon = monitor.Monitor(on_alert=print)          # the seed's thresholds, a sample a second
    server = monitor.serve_metrics("127.0.0.1:9464")  # functions, system gauges, alerts
    hits = monitor.ratio("cache_hit", "User cache lookups.")  # hits.hit() / hits.miss()

and a short-lived job pushes its figures at the end instead::

    monitor.push_metrics("http://127.0.0.1:9091", "nightly-batch")

Threads do not survive ``os.fork``: a worker forked by a pre-fork server (gunicorn, uWSGI)
starts its own ``serve_metrics`` on a port of its own after the fork (gunicorn's
``post_fork`` hook), or pushes with a ``grouping={"instance": ...}`` of its own.
"""

from ._perfcore import (
    AlertEngine,
    AlertRule,
    Counter,
    Gauge,
    MetricsServer,
    Monitor,
    MonitorConfigError,
    MonitorError,
    MonitorIOError,
    MonitorThreadError,
    Ratio,
    SystemSampler,
    counter,
    delete_metrics,
    gauge,
    observations,
    push_metrics,
    ratio,
    serve_metrics,
)

__all__ = [
    "AlertEngine",
    "AlertRule",
    "Counter",
    "Gauge",
    "MetricsServer",
    "Monitor",
    "MonitorConfigError",
    "MonitorError",
    "MonitorIOError",
    "MonitorThreadError",
    "Ratio",
    "SystemSampler",
    "counter",
    "delete_metrics",
    "gauge",
    "observations",
    "push_metrics",
    "ratio",
    "serve_metrics",
]
