"""Resumes bulk operations nobody works on any more: the sweep every `bulk_worker`
runs on its own at start and every beat, by hand (bulk_worker makes it unneeded).

A worker killed with SIGKILL leaves its operation "running"; the operation's rows
say which chunks finished, so a new run continues from there without updating a
lead twice.
"""

from django.core.management.base import BaseCommand

from leadsadmin.bulk.operations import bulk_sweep


class Command(BaseCommand):
    help = "Resume bulk operations whose worker stopped without finishing them."

    def handle(self, *args, **options):
        resumed = bulk_sweep().resumed
        if resumed:
            ids = ", ".join(str(pk) for pk in resumed)
            self.stdout.write(f"Resumed bulk operation(s) {ids}.")
        else:
            self.stdout.write("No stalled bulk operation.")
