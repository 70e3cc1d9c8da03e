from django.db import models


class Access(models.Model):
    """Holds the product's permissions; it has no table of its own.

    Roles (Django groups) are built from these in the `0002_roles` migration,
    and `leadsadmin.core.roles` names them for the code.
    """

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_leads", "Filter and preview leads"),
            ("export_leads", "Export leads as CSV"),
            ("bulk_edit_leads", "Bulk-edit leads"),
            ("revert_changes", "Revert recorded changes"),
            ("view_audit", "View the audit trail"),
            ("propose_bulk_edit", "Propose bulk edits for approval"),
            ("approve_bulk_edit", "Approve or reject proposed bulk edits"),
        ]
