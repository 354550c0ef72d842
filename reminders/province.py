"""The name the secretariat's papers carry: the province the units belong to."""

from __future__ import annotations

from sqlmodel import Session, select

from locales import Translator
from models.provinces import province_named_by
from models.tables import Unit


def province_name(session: Session, _: Translator) -> str:
    """The province the units belong to ("the whole country" when they span several)."""
    codes = {c for c in session.exec(select(Unit.province_code).distinct()).all() if c}
    if len(codes) > 1:
        return _("the whole country")
    province = province_named_by(next(iter(codes))) if codes else None
    return province.name if province else ""
