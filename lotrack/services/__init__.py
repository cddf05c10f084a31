"""Verbs of lotrack. Each takes (session, actor, ...), flushes, never commits, and audits."""
