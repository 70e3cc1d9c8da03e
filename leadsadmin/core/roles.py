"""The three roles, as Django groups, and the permissions each one holds.

The `0002_roles` migration creates them from ROLE_PERMISSIONS; views check the
permission names below, never the group names.
"""

VIEW_LEADS = "core.view_leads"
EXPORT_LEADS = "core.export_leads"
BULK_EDIT_LEADS = "core.bulk_edit_leads"
VIEW_AUDIT = "core.view_audit"

SALES_OPS = "Sales ops"
TEAM_LEADS = "Team leads"
AUDITORS = "Auditors"

# Team leads also hold revert_changes (the groups were migrated with it), but no
# page checks it: there is no revert.
ROLE_PERMISSIONS = {
    SALES_OPS: ("view_leads", "export_leads"),
    TEAM_LEADS: ("view_leads", "export_leads", "bulk_edit_leads", "revert_changes"),
    AUDITORS: ("view_audit",),
}

PERMISSION_NAMES = {
    "view_leads": "Filter and preview leads",
    "export_leads": "Export leads as CSV",
    "bulk_edit_leads": "Bulk-edit leads",
    "revert_changes": "Revert recorded changes",
    "view_audit": "View the audit trail",
}
