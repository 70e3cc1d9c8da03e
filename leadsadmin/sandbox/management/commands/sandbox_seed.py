import time

from django.core.management.base import BaseCommand

from leadsadmin.sandbox.seed import sandbox_seed


class Command(BaseCommand):
    help = "Adds N realistic, deterministic leads to the sandbox, and the sales reps they name."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=5000, help="how many leads (5000)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (0)")

    def handle(self, *args, count, seed, **options):
        started = time.monotonic()
        created = sandbox_seed(count, seed=seed)
        elapsed = time.monotonic() - started
        self.stdout.write(f"Seeded {created} leads in {elapsed:.1f} s.")
