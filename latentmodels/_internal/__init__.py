"""Shared machinery that every family uses and no user imports: input validation, model
files, the process group, thread settings. Public names here are the package's internal API."""
