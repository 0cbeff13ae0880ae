"""``query_pending --processes``: the parent gathers its children's outcomes.
A child that dies in the middle of a message (killed while writing) leaves
half a pickle in its pipe: that child is finished, like one whose pipe
closed, and the gathering goes on (its unreported payments become errors
in the caller)."""

import multiprocessing
import os

from payments.services.batch import ReconciliationSummary
from payments.services.batch_processes import _gather

FORK = multiprocessing.get_context("fork")


def _child_that_dies_mid_message(writer) -> None:
    writer.send((7, "pending", "completed", "completed", ""))
    writer.send_bytes(b"\x80\x05\x95\x30\x00\x00\x00")  # a pickle cut short
    os._exit(9)


def _started(target):
    reader, writer = FORK.Pipe(duplex=False)
    child = FORK.Process(target=target, args=(writer,), daemon=True)
    child.start()
    writer.close()
    return reader, child


def test_a_child_dying_mid_message_is_finished_not_a_crash():
    # given: one child reports payment 7, then dies writing the next
    readers = [_started(_child_that_dies_mid_message)]
    summary = ReconciliationSummary()
    # when
    reported = _gather(readers, summary, on_outcome=None)
    # then: what it reported counts; the rest is left to the caller
    assert reported == {7}
    assert summary.as_dict()["completed"] == 1
    assert not readers[0][1].is_alive()
