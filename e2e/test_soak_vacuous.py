"""A soak whose pushes all failed fails itself: it checked nothing of STK
(once every push was refused because the random callback secret held
"cmd", and every invariant held vacuously). Hand-made counts, no
processes: runs in the ordinary suite."""

from e2e.soak_run import SOAK_INVARIANTS, soak_failures


def _counts(sent: int, accepted: int) -> dict:
    return {
        "staff API open payments": 0,
        "pushes": {
            "sent": sent,
            "answers": {"503 callback_url_unusable": sent - accepted},
        },
        "simulator": {"pushes accepted": accepted},
    }


def _no_problems() -> dict:
    return {key: [] for key in SOAK_INVARIANTS}


def test_a_run_with_no_accepted_push_fails():
    failures = soak_failures(_counts(sent=850, accepted=0), _no_problems())
    assert "pushes accepted by the simulator" in failures
    assert "0 of 850" in failures["pushes accepted by the simulator"]


def test_a_run_whose_pushes_mostly_went_through_passes():
    # the soak's own faults refuse about a tenth of the pushes
    assert soak_failures(_counts(sent=56, accepted=51), _no_problems()) == {}
