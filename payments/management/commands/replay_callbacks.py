"""``python manage.py replay_callbacks``: store callbacks spooled during a
database outage (run on every web host once the database is back).

Prints how many were replayed, quarantined (moved to the spool's
``quarantine/`` folder with a ``.error.txt``: they cannot be applied) and
left (still spooled: the database went away again, or over ``--limit``)."""

from django.core.management.base import BaseCommand

from payments.services.callbacks import payment_replay_spooled_callbacks


class Command(BaseCommand):
    help = "Store and apply callbacks kept on local disk while the database was down."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=10_000)

    def handle(self, *args, **options):
        replay = payment_replay_spooled_callbacks(limit=options["limit"])
        self.stdout.write(
            f"replayed {replay.replayed}, quarantined {replay.quarantined}, "
            f"left {replay.left} spooled callbacks"
        )
