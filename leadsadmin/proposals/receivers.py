"""When the bulk operation of an approved proposal ends (bulk's `operation_ended`),
its proposer hears of it: a notice on their next page and an email."""

from __future__ import annotations

from django.dispatch import receiver

from leadsadmin.bulk.signals import operation_ended
from leadsadmin.proposals.models import Proposal
from leadsadmin.proposals.notifications import proposal_email_send


@receiver(operation_ended, dispatch_uid="proposals_operation_ended")
def tell_the_proposer(sender, operation_id, **kwargs):
    proposal_ids = list(
        Proposal.objects.filter(
            operation_id=operation_id, state=Proposal.State.APPROVED
        ).values_list("pk", flat=True)
    )
    for proposal_id in proposal_ids:
        Proposal.objects.filter(pk=proposal_id).update(unread=True)
        proposal_email_send(proposal_id)
