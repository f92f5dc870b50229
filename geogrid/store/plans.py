"""Repository of plans and their steps (规划草案)."""

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from geogrid.store.batches import utcnow
from geogrid.store.models import Plan, PlanStep


def add_plan(
    session: Session, *, name: str, scope: str, level: str, signature: str, author: str
) -> Plan:
    """Store a new draft."""
    plan = Plan(
        name=name,
        scope_code=scope,
        scope_level=level,
        status="draft",
        base_signature=signature,
        created_by=author,
        created_at=utcnow(),
    )
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, plan_id: int) -> Plan | None:
    """One plan, or None."""
    return session.get(Plan, plan_id)


def list_plans(session: Session, *, scope: str | None = None) -> list[Plan]:
    """Plans, newest first, optionally of one scope."""
    stmt = select(Plan).order_by(Plan.id.desc())
    if scope:
        stmt = stmt.where(Plan.scope_code == scope)
    return list(session.scalars(stmt))


def add_step(
    session: Session,
    plan_id: int,
    *,
    op: str,
    params: dict[str, Any],
    author: str,
    grids: dict[str, Any],
) -> PlanStep:
    """Append a step after the last one."""
    last = session.scalar(
        select(func.max(PlanStep.seq)).where(PlanStep.plan_id == plan_id)
    )
    step = PlanStep(
        plan_id=plan_id,
        seq=(last or 0) + 1 if last is not None else 0,
        op=op,
        params=params,
        author=author,
        at=utcnow(),
        grids=grids,
    )
    session.add(step)
    session.flush()
    return step


def steps(session: Session, plan_id: int) -> list[PlanStep]:
    """A plan's steps in order (step 0 is the base)."""
    return list(
        session.scalars(
            select(PlanStep).where(PlanStep.plan_id == plan_id).order_by(PlanStep.seq)
        )
    )


def drop_steps_after(session: Session, plan_id: int, seq: int) -> None:
    """Forget every step after ``seq`` (undo, rebase)."""
    session.execute(
        delete(PlanStep).where(PlanStep.plan_id == plan_id, PlanStep.seq > seq)
    )
