from django.apps import AppConfig


class LegacyConfig(AppConfig):
    """Adoption of the old system's database: no models, only the `adopt_legacy` command.

    Its own app (not part of storage) because it is used once per site and removed once every
    site is adopted; it depends on zones and storage, and nothing depends on it.
    """

    name = "legacy"
