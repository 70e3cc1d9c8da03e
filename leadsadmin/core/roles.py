"""The three roles, as Django groups, and the permissions each one holds.

The roles migrations create them from ROLE_PERMISSIONS (`0003_roles_again`
brings an existing database up to date); views check the permission names
below, never the group names.
"""

VIEW_LEADS = "core.view_leads"
EXPORT_LEADS = "core.export_leads"
BULK_EDIT_LEADS = "core.bulk_edit_leads"
REVERT_CHANGES = "core.revert_changes"
VIEW_AUDIT = "core.view_audit"
PROPOSE_BULK_EDIT = "core.propose_bulk_edit"
APPROVE_BULK_EDIT = "core.approve_bulk_edit"

SALES_OPS = "Sales ops"
TEAM_LEADS = "Team leads"
AUDITORS = "Auditors"

# Team leads read the audit too: their own past operations, and what they revert.
# Sales ops propose bulk edits; team leads approve them (and propose their own
# edits above BULK_APPROVAL_THRESHOLD, for another team lead to approve).
ROLE_PERMISSIONS = {
    SALES_OPS: ("view_leads", "export_leads", "propose_bulk_edit"),
    TEAM_LEADS: (
        "view_leads",
        "export_leads",
        "bulk_edit_leads",
        "revert_changes",
        "view_audit",
        "propose_bulk_edit",
        "approve_bulk_edit",
    ),
    AUDITORS: ("view_audit",),
}

PERMISSION_NAMES = {
    "view_leads": "Filter and preview leads",
    "export_leads": "Export leads as CSV",
    "bulk_edit_leads": "Bulk-edit leads",
    "revert_changes": "Revert recorded changes",
    "view_audit": "View the audit trail",
    "propose_bulk_edit": "Propose bulk edits for approval",
    "approve_bulk_edit": "Approve or reject proposed bulk edits",
}
