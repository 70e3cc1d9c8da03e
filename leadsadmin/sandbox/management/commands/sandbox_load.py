import json

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError

from leadsadmin.sandbox.loading import docs_from_json, sandbox_load


class Command(BaseCommand):
    help = (
        'Loads leads from a JSON file shaped like a find response ({"docs": [...]}) '
        "or a plain list of lead documents."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the JSON file")
        parser.add_argument(
            "--replace", action="store_true", help="delete the sandbox's leads first"
        )

    def handle(self, *args, file, replace, **options):
        try:
            with open(file, encoding="utf-8") as handle:
                docs = docs_from_json(json.load(handle))
            loaded = sandbox_load(docs, replace=replace)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from None
        except ValueError as exc:  # bad JSON or LoadError
            raise CommandError(f"Cannot load {file}: {exc}") from None
        except IntegrityError:
            raise CommandError(
                f"Cannot load {file}: some ids already exist in the sandbox (use --replace)"
            ) from None
        self.stdout.write(f"Loaded {loaded} leads.")
