"""`albert-race` in a checkout: the command lives in albert_tf/cli/run_race.py (`--help`)."""

from albert_tf.cli.run_race import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
