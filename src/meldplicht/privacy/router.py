"""POST /api/v1/privacy/subjects: everything held about one BSN (inspectors and supervisors).

A POST, so the BSN travels in the body and never in a URL, an access log or a browser history.
The reason is required and stored in the audit log with who asked, before the answer is built.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from meldplicht.audit import service as audit
from meldplicht.core.clock import utcnow
from meldplicht.core.crypto import cipher_for
from meldplicht.core.db import SessionDep
from meldplicht.core.errors import (
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    problem_responses,
)
from meldplicht.inspection.dependencies import CurrentStaff
from meldplicht.privacy.subject_export import SubjectExport, SubjectRequest, export_subject

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


@router.post(
    "/subjects",
    response_model=SubjectExport,
    responses=problem_responses(
        Unauthorized,
        Forbidden,
        MalformedRequest,
        PayloadTooLarge,
        UnsupportedMediaType,
        InvalidRequest,
    ),
    summary="Everything held about one person, by BSN (inspectors and supervisors; audited)",
)
def export_data_subject(
    payload: SubjectRequest,
    request: Request,
    response: Response,
    session: SessionDep,
    staff: CurrentStaff,
) -> SubjectExport:
    """Workers at every employer, notifications with their history and findings, payroll
    records and flags with notes. Empty lists when nothing is held (that answer is audited
    too). The BSN is shown in full: keep the file as carefully as the database."""
    cipher = cipher_for(request.app.state.settings)
    result = export_subject(session, payload.bsn, cipher, utcnow())
    audit.record(
        session,
        staff.actor,
        "personal_data.exported",
        "person",
        cipher.keyed_hash(payload.bsn),
        {
            "key": staff.key_prefix,
            "reason": payload.reason,
            "workers": len(result.workers),
            "payroll_records": len(result.payroll_records),
            "flags": len(result.flags),
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return result
