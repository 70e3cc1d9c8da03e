from django.core.management.base import BaseCommand, CommandError

from leadsadmin.audit.chain import chain_check


class Command(BaseCommand):
    help = (
        "Recomputes the audit hash chain and prints 'audit chain intact: N records', "
        "or the first record where it breaks and why (exit status 1)."
    )

    def handle(self, *args, **options):
        report = chain_check()
        if not report.intact:
            raise CommandError(report.message)
        self.stdout.write(report.message)
