"""What bulk tells the layers above it, without importing them."""

from django.db import transaction
from django.dispatch import Signal

# Sent once an operation has ended (finished, stopped, cancelled, failed or
# discarded) and that is committed; kwargs: operation_id. The audit app seals it.
operation_ended = Signal()


def announce_ended(operation_id: int) -> None:
    transaction.on_commit(lambda: operation_ended.send(sender=None, operation_id=operation_id))
