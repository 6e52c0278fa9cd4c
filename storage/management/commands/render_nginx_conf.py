"""Print the nginx.conf of a zone's video access service (for hosts without Docker)."""

from django.core.management.base import BaseCommand, CommandError

from storage.nginx import DEFAULT_WORKER_USER, NginxConfigError, nginx_conf_render
from zones.management.zone_option import zone_from_option, zone_option_add


class Command(BaseCommand):
    help = (
        "Print the finished nginx configuration for one zone. It contains the zone's link "
        "secret: write it to a file readable by root only."
    )

    def add_arguments(self, parser):
        zone_option_add(parser)
        parser.add_argument("--listen", type=int, help="port to listen on (default PUBLIC_PORT)")
        parser.add_argument("--access-log", default="/var/log/nginx/opvideo-access.log")
        parser.add_argument("--error-log", default="/var/log/nginx/opvideo-error.log")
        parser.add_argument("--pid-file", default="/run/opvideo-nginx.pid")
        parser.add_argument("--temp-dir", default="/var/lib/nginx")
        parser.add_argument("--mime-types", default="/etc/nginx/mime.types")
        parser.add_argument(
            "--user",
            default=DEFAULT_WORKER_USER,
            help=f"the user nginx's workers run as (default {DEFAULT_WORKER_USER})",
        )
        parser.add_argument(
            "--group",
            help=(
                "the workers' group: one that may read PATH_DST (default the zone's storage "
                "user's own group, as docker/storage/bootstrap.sh makes it)"
            ),
        )

    def handle(self, *args, **options):
        zone = zone_from_option(options["zone"])
        try:
            conf = nginx_conf_render(
                zone=zone,
                listen_port=options["listen"],
                access_log=options["access_log"],
                error_log=options["error_log"],
                pid_file=options["pid_file"],
                temp_dir=options["temp_dir"],
                mime_types=options["mime_types"],
                worker_user=options["user"],
                worker_group=options["group"],
            )
        except NginxConfigError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(conf, ending="")
