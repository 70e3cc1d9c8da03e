from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("core", "0003_roles_again")]

    operations = [
        migrations.AlterModelOptions(
            name="access",
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_leads", "Filter and preview leads"),
                    ("export_leads", "Export leads as CSV"),
                    ("bulk_edit_leads", "Bulk-edit leads"),
                    ("revert_changes", "Revert recorded changes"),
                    ("view_audit", "View the audit trail"),
                    ("propose_bulk_edit", "Propose bulk edits for approval"),
                    ("approve_bulk_edit", "Approve or reject proposed bulk edits"),
                ],
            },
        ),
    ]
