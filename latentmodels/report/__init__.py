"""The HTML report of a run: :mod:`.page` builds the page from section builders, and
:mod:`.sections` holds one module of builders per family and use."""

from .page import (
    MODEL_FILE,
    REPORT_FILE,
    RUN_FILE,
    SECTIONS,
    ReportContext,
    Section,
    encodes,
    held_out_split,
    hmm_section,
    is_hmm,
    load_model,
    load_run_data,
    read_run,
    run_header,
    write_report,
    write_run,
)

__all__ = [
    "MODEL_FILE",
    "REPORT_FILE",
    "RUN_FILE",
    "SECTIONS",
    "ReportContext",
    "Section",
    "encodes",
    "held_out_split",
    "hmm_section",
    "is_hmm",
    "load_model",
    "load_run_data",
    "read_run",
    "run_header",
    "write_report",
    "write_run",
]
