from django.core.management.base import BaseCommand

from leadsadmin.sandbox.models import ApiKey


class Command(BaseCommand):
    help = "Creates a sandbox API key and prints it as the full Authorization header value."

    def add_arguments(self, parser):
        parser.add_argument("--name", default="", help="a note on what the key is for")

    def handle(self, *args, name, **options):
        _, plain = ApiKey.issue(name)
        self.stdout.write(ApiKey.header_value(plain))
