"""Telling the proposer: a notice on their next page (Django messages) and an email."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from leadsadmin.proposals.models import Proposal
from leadsadmin.proposals.selectors import change_lines, proposal_notice

logger = logging.getLogger(__name__)


def proposal_notices_queue(request) -> None:
    """Adds a message for each outcome of the user's proposals they have not been
    told of on a page yet; clearing `unread` first means each is told once, even
    to two tabs at the same moment."""
    unread = Proposal.objects.filter(proposed_by=request.user, unread=True).select_related(
        "decided_by", "operation"
    )
    for proposal in unread:
        if Proposal.objects.filter(pk=proposal.pk, unread=True).update(unread=False):
            level, text = proposal_notice(proposal)
            messages.add_message(request, level, text)


def proposal_email_send(proposal_id: int) -> None:
    """Emails the proposer where their proposal stands (when they have an address)."""
    proposal = Proposal.objects.select_related("proposed_by", "decided_by", "operation").get(
        pk=proposal_id
    )
    address = proposal.proposed_by.email
    if not address:
        return
    _, text = proposal_notice(proposal)
    context = {"proposal": proposal, "text": text, "lines": change_lines(proposal)}
    body = render_to_string("proposals/email/outcome.txt", context)
    try:
        send_mail(f"Leads Admin: {text}"[:150], body, None, [address])
    except OSError as exc:
        # Sent after the decision or the job is committed: a mail server that is
        # down must not turn either into an error; the notice still shows.
        logger.warning("Proposal %s: email to its proposer failed: %s", proposal.pk, exc)


def proposal_email_on_commit(proposal_id: int) -> None:
    transaction.on_commit(lambda: proposal_email_send(proposal_id))
