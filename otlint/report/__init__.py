"""The report (``report``: findings ranked, the join matrix) and its formats (``reporters``)."""
