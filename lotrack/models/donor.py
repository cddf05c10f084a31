"""Donors (coded, never named), their screening results, and clones derived from them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lotrack.db import Base, UTCDateTime, state_column_type, utcnow
from lotrack.domain.states import Determination


class Donor(Base):
    __tablename__ = "donor"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    consent_date: Mapped[dt.date] = mapped_column(Date)
    determination: Mapped[Determination] = mapped_column(
        state_column_type(Determination, name="determination", length=20),
        default=Determination.INCOMPLETE,
    )
    determined_by: Mapped[str | None] = mapped_column(String(200))  # the responsible person
    determined_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    screening: Mapped[list[DonorScreening]] = relationship(
        back_populates="donor", order_by="DonorScreening.id"
    )
    clones: Mapped[list[Clone]] = relationship(back_populates="donor", order_by="Clone.id")


class DonorScreening(Base):
    __tablename__ = "donor_screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"), index=True)
    marker: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(100))
    result: Mapped[str] = mapped_column(String(20))
    tested_on: Mapped[dt.date] = mapped_column(Date)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    donor: Mapped[Donor] = relationship(back_populates="screening")


class Clone(Base):
    __tablename__ = "clone"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("donor.id"), index=True)
    derived_on: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    donor: Mapped[Donor] = relationship(back_populates="clones")
