"""The django.tasks entry point of a bulk operation; the work is in running.py."""

from django.tasks import task

from leadsadmin.bulk.running import bulk_operation_run


@task
def bulk_operation_task(operation_id: int, run_token: str) -> str:
    return bulk_operation_run(operation_id, run_token)
