"""The concern form's cheap <select> lives in helpdesk/widgets.py, for the staff forms too."""

from helpdesk.widgets import PrerenderedSelect

__all__ = ["PrerenderedSelect"]
