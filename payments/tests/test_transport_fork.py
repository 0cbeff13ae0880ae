"""A forked child never shares its parent's pooled Daraja session: two
processes on one kept-alive socket read each other's answers (found by
``query_pending --processes``: queries timed out after 30 s)."""

import os

from payments.daraja import transport


def test_a_forked_child_gets_its_own_session():
    # given: the parent has its pooled session
    parent_session = transport.shared_session()
    reader, writer = os.pipe()
    # when: a child asks for the session
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, never return to pytest
        fresh = transport.shared_session() is not parent_session
        os.write(writer, b"fresh" if fresh else b"shared")
        os._exit(0)
    os.close(writer)
    answer = os.read(reader, 16)
    os.waitpid(pid, 0)
    os.close(reader)
    # then: the child built its own; the parent keeps its own
    assert answer == b"fresh"
    assert transport.shared_session() is parent_session
