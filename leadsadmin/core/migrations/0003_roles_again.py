"""Sets each role's permissions from ROLE_PERMISSIONS again: Team leads now also
view the audit pages (for their own operations and reverts)."""

import importlib

from django.db import migrations

create_roles = importlib.import_module("leadsadmin.core.migrations.0002_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [("core", "0002_roles")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
