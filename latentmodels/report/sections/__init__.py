"""Report sections, one module per family or use: each builder takes a ``ReportContext`` and
returns a ``Section`` or ``None`` when it does not apply."""
