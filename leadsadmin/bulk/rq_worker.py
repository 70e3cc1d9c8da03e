"""RQ's worker class for `bulk_worker` with TASKS_BACKEND=rq (named by its dotted path,
so only an RQ worker imports rq).

RQ starts a thread that listens for worker commands with `get_message(timeout=60)`;
on a warm shutdown it unsubscribes and calls the thread's `stop()`, which redis-py 8
makes wait for that thread without a limit. The thread can sit out the rest of its 60 s,
so a stopping worker hung for up to a minute (seen as a SIGTERMed worker that did not
exit). The thread is a daemon and closes its own connection: wait a second at most.
"""

from rq.worker import SimpleWorker


class BulkRQWorker(SimpleWorker):
    """RQ's non-forking worker (a killed worker takes its job down with it, and the
    others resume that operation), stopping within a second of its job."""

    def unsubscribe(self):
        if self.pubsub_thread:
            self.log.info(
                "Worker %s: unsubscribing from channel %s", self.name, self.pubsub_channel_name
            )
            self.pubsub.unsubscribe()
            self.pubsub_thread.stop(timeout=1)
