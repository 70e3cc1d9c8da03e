"""Sets each role's permissions from ROLE_PERMISSIONS again: Sales ops and Team
leads now propose bulk edits, and Team leads approve them."""

import importlib

from django.db import migrations

create_roles = importlib.import_module("leadsadmin.core.migrations.0002_roles").create_roles


class Migration(migrations.Migration):
    dependencies = [("core", "0004_proposal_permissions")]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
