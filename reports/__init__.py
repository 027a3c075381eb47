"""Supervisor reports: indicators from case events, SVG charts, Jinja templates, WeasyPrint PDFs, RQ jobs.

``collect_report`` computes; ``render_html``/``render_pdf`` print; ``request_report``/``build_report``
keep the report rows and files; ``reports.jobs`` runs builds in workers.
"""
