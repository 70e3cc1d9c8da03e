from django.core.management.base import BaseCommand, CommandError

from leadsadmin.sandbox.payload_fields import CONTRACT_FIELDS_FILE, payload_lead_fields_json


class Command(BaseCommand):
    help = (
        "Writes the contract server's Lead fields (tests/contract/payload/leads-fields.json) "
        "from leadsadmin.schema."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="write nothing; fail when the file differs from what the schema gives",
        )

    def handle(self, *args, check, **options):
        text = payload_lead_fields_json()
        current = CONTRACT_FIELDS_FILE.read_text() if CONTRACT_FIELDS_FILE.exists() else None
        if check:
            if current != text:
                raise CommandError(
                    f"{CONTRACT_FIELDS_FILE.name} is stale: "
                    "run `uv run manage.py payload_contract_config`"
                )
            return
        CONTRACT_FIELDS_FILE.parent.mkdir(parents=True, exist_ok=True)
        CONTRACT_FIELDS_FILE.write_text(text)
        self.stdout.write(f"wrote {len(text)} bytes to {CONTRACT_FIELDS_FILE}")
