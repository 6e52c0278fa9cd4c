"""The OPVideo workstation client: ``python -m client_agent run|once|status|check``."""

__version__ = "0.1.0"
