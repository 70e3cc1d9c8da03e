"""What every kept record shares."""


class RecordFrozen(Exception):
    """An audit record may not be changed or deleted; str() says which and why."""
