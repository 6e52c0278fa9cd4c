from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClientAgentConfig(AppConfig):
    name = "client_agent"
    verbose_name = _("Workstations")
