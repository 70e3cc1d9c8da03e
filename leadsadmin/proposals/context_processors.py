"""What every page needs from proposals: the open count in the navigation (for
those who may approve) and the notices of outcomes (for those who propose)."""

from leadsadmin.core.roles import APPROVE_BULK_EDIT, PROPOSE_BULK_EDIT
from leadsadmin.proposals.notifications import proposal_notices_queue
from leadsadmin.proposals.selectors import proposals_to_decide


def proposals(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context = {}
    if user.has_perm(APPROVE_BULK_EDIT):
        context["open_proposals_count"] = proposals_to_decide(user).count()
    if user.has_perm(PROPOSE_BULK_EDIT):
        # Queued before the page draws its messages, so they show on this page.
        proposal_notices_queue(request)
    return context
