from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bulk", "0005_workers"),
    ]

    operations = [
        migrations.AddField(
            model_name="pinnedlead",
            name="snapshot",
            field=models.JSONField(
                blank=True,
                help_text="Every field at review but id and updatedAt; a field left out was null.",
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="pinnedlead",
            name="outside_changes",
            field=models.JSONField(
                blank=True,
                help_text="[[field, value expected, value found], ...] of a lead to check.",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="pinnedlead",
            name="outcome",
            field=models.CharField(
                choices=[
                    ("pending", "Not done yet"),
                    ("updated", "Updated"),
                    ("error", "Error"),
                    ("conflict", "Conflict"),
                    ("check", "Changed outside this edit — check"),
                ],
                default="pending",
                max_length=10,
            ),
        ),
        migrations.AddField(
            model_name="bulkoperation",
            name="check_count",
            field=models.PositiveIntegerField(
                default=0,
                help_text="Leads applied whose other fields changed outside this edit.",
            ),
        ),
        migrations.AddField(
            model_name="bulkchunk",
            name="checks",
            field=models.PositiveIntegerField(
                default=0, help_text="Leads changed outside this edit."
            ),
        ),
    ]
