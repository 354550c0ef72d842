"""The secretariat's spreadsheets: the task list in (import, template) and the figures out (export)."""
