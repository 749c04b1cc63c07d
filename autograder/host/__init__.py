"""Runs on the host, trusted: course files, settings, the sandbox, and grading submissions and classes.

Nothing here runs inside a student's kernel; the kernel and the judge never import it.
"""
