"""`manage.py adopt_legacy`: put the old system's CONFIG and VIDEO under the migrations.

Run it once per site database, before the first `migrate`. The work is in
legacy.adoption; this only prints.
"""

from django.core.management.base import BaseCommand, CommandError

from legacy.adoption import (
    AdoptionError,
    AdoptionPlan,
    legacy_adoption_execute,
    legacy_adoption_plan,
)


class Command(BaseCommand):
    help = (
        "Adopt a database of the old system in place: bring CONFIG and VIDEO to the project's "
        "schema (keeping every row) and record their initial migrations, so that `migrate` "
        "can run. Prints what it found and what it changes; --dry-run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Inspect and print the plan; change nothing.",
        )
        parser.add_argument(
            "--max-steps",
            type=int,
            default=None,
            metavar="N",
            help=(
                "Stop after N steps (for example to run the long VIDEO rebuild in its own "
                "maintenance window). Running the command again continues where it stopped."
            ),
        )
        parser.add_argument(
            "--database", default="default", help="Database alias (default: 'default')."
        )

    def handle(self, *args, dry_run, max_steps, database, **options):
        if max_steps is not None and max_steps < 1:
            raise CommandError("--max-steps must be at least 1")
        try:
            plan = legacy_adoption_plan(using=database)
        except AdoptionError as exc:
            raise CommandError(str(exc)) from exc
        if plan.status != "pending":
            self.stdout.write(plan.message)
            return
        self._print_plan(plan)
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            return

        self.stdout.write("Executing:")
        try:
            outcome = legacy_adoption_execute(
                plan=plan, max_steps=max_steps, progress=self.stdout.write
            )
        except AdoptionError as exc:
            raise CommandError(str(exc)) from exc
        if outcome.stopped_early:
            self.stdout.write(
                self.style.WARNING(
                    f"Stopped after {max_steps} steps as asked; run adopt_legacy again to continue."
                )
            )
            return
        self.stdout.write(self.style.SUCCESS("Adopted. Now run `manage.py migrate`."))
        self._print_findings("Needs an admin's attention:", outcome.attention)

    def _print_plan(self, plan: AdoptionPlan) -> None:
        found = ", ".join(f"{table} {rows} rows" for table, rows in plan.table_rows.items())
        self.stdout.write(f"Legacy tables found: {found}.")
        self._print_findings("Data that will be changed:", plan.changes)
        self._print_findings("Needs an admin's attention:", plan.attention)
        self.stdout.write(f"Plan ({len(plan.steps)} steps):")
        for number, step in enumerate(plan.steps, start=1):
            self.stdout.write(f"  {number}. {step.title}")
            for detail in step.details:
                self.stdout.write(f"       {detail}")

    def _print_findings(self, heading: str, findings) -> None:
        if not findings:
            return
        self.stdout.write(heading)
        for finding in findings:
            lines = finding.lines()
            self.stdout.write(f"  - {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(f"  {line}")
