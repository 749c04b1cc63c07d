"""Runs on the host, as the instructor: the feedback queue as a page only the instructor can open.

The feedback service serves it when JupyterHub runs the service with a URL: the hub proxies
``/services/mnist-feedback/`` to it and logs the visitor in with its OAuth, and only users granted
``access:services!service=mnist-feedback`` (the instructor, :mod:`autograder.tools.hub`) get in.
"""

from __future__ import annotations

import html
import os
import time
from collections import Counter
from urllib.parse import urlparse

from autograder.host.feedback_queue import STATES, FeedbackQueue, Job


def render(jobs: list[Job], now: float | None = None) -> str:
    """The queue as one HTML page: how many wait, grade, are done or failed, then one row per student."""
    now = time.time() if now is None else now
    counts = Counter(job.state for job in jobs)
    summary = ", ".join(f"{counts[state]} {state}" for state in STATES)

    def ago(moment: float | None) -> str:
        return f"{now - moment:.0f} s ago" if moment else ""

    rows = "".join(
        f"<tr class='{job.state}'><td>{html.escape(job.student)}</td><td>{html.escape(job.assignment)}</td>"
        f"<td>{job.state}</td><td>{ago(job.seen)}</td><td>{ago(job.finished)}</td>"
        f"<td>{html.escape(job.message)}</td></tr>" for job in jobs)
    return ("<!doctype html><html><head><meta charset='utf-8'><meta http-equiv='refresh' content='10'>"
            "<title>Feedback on submit</title></head><body><h1>Feedback on submit</h1>"
            f"<p id='summary'>{summary}</p><table id='queue'><tr><th>student</th><th>assignment</th>"
            f"<th>state</th><th>submitted</th><th>finished</th><th>message</th></tr>{rows}</table>"
            "</body></html>")


def serve_page(queue: FeedbackQueue) -> None:
    """Serve the page at ``$JUPYTERHUB_SERVICE_URL`` under JupyterHub's OAuth until the process stops."""
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from jupyterhub.utils import url_path_join
    from tornado import ioloop, web

    class QueuePage(HubOAuthenticated, web.RequestHandler):
        @web.authenticated
        def get(self) -> None:
            self.write(render(queue.jobs()))

    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/")
    app = web.Application([(prefix, QueuePage),
                           (url_path_join(prefix, "oauth_callback"), HubOAuthCallbackHandler)],
                          cookie_secret=os.urandom(32))
    where = urlparse(os.environ["JUPYTERHUB_SERVICE_URL"])
    app.listen(where.port, where.hostname)
    ioloop.IOLoop.current().start()
