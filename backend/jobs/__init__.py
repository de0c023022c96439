"""Background jobs on PostgreSQL (procrastinate): the rounds (``rounds``), the job queue and its
workers (``queue``). Run by ``ohconnect worker`` and, when OHCONNECT_INPROCESS_JOBS is on, inside
every app process."""
