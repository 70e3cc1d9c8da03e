"""Re-enqueues bulk operations whose worker died mid-way (run it when a worker starts).

A worker killed with SIGKILL leaves its task "running" for ever in django-tasks-db,
and a restarted worker only picks up ready tasks. The operation's rows say which
chunks finished, so a new run continues from there without updating a lead twice.
"""

from django.core.management.base import BaseCommand

from leadsadmin.bulk.operations import bulk_operations_resume_stalled


class Command(BaseCommand):
    help = "Resume bulk operations whose worker stopped without finishing them."

    def handle(self, *args, **options):
        resumed = bulk_operations_resume_stalled()
        if resumed:
            ids = ", ".join(str(pk) for pk in resumed)
            self.stdout.write(f"Resumed bulk operation(s) {ids}.")
        else:
            self.stdout.write("No stalled bulk operation.")
