"""The state-machine helper orders, take-backs and workshop jobs share."""

from shop.common.statemachine import Refusal, StateMachine
from shop.order import pipeline
from shop.takeback.models import TakeBack
from shop.workshop.models import MACHINE as WORKSHOP

MACHINE = StateMachine.of({"open": ["doing", "done"], "doing": ["open", "done"], "done": []})


def test_refusals_by_kind():
    assert MACHINE.refusal("open", "doing") is None
    assert MACHINE.refusal("open", "lost") is Refusal.UNKNOWN
    assert MACHINE.refusal("doing", "doing") is Refusal.SAME
    assert MACHINE.refusal("done", "open") is Refusal.ENDED
    assert MACHINE.ends() == ("done",)


def test_the_three_machines_use_it():
    assert pipeline.END_STATUSES == (pipeline.CANCELLED, pipeline.REFUNDED)
    assert pipeline.MACHINE.refusal(pipeline.SHIPPED, pipeline.PAID) is Refusal.NOT_ALLOWED
    assert WORKSHOP.refusal("done", "open") is Refusal.ENDED
    takeback = TakeBack(status=TakeBack.Status.CLOSED)
    assert not takeback.can_move_to(TakeBack.Status.GRADED)
