from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Access",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
            ],
            options={
                "managed": False,
                "default_permissions": (),
                "permissions": [
                    ("view_leads", "Filter and preview leads"),
                    ("export_leads", "Export leads as CSV"),
                    ("bulk_edit_leads", "Bulk-edit leads"),
                    ("revert_changes", "Revert recorded changes"),
                    ("view_audit", "View the audit trail"),
                ],
            },
        ),
    ]
