"""Documents: playbooks (one account plan per selected account) and the portfolio report, rendered
from sandboxed Jinja templates the team may override."""

from kamrules.documents.context import build_context
from kamrules.documents.context_model import PlaybookContext
from kamrules.documents.environment import make_environment
from kamrules.documents.files import playbook_links, playbook_paths
from kamrules.documents.render import check_templates, render_playbooks
from kamrules.documents.report import build_report_context, render_report

__all__ = ["PlaybookContext", "build_context", "make_environment", "playbook_links", "playbook_paths",
           "check_templates", "render_playbooks", "build_report_context", "render_report"]
