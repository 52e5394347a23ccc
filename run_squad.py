"""`albert-squad` in a checkout: the command lives in albert_tf/cli/run_squad.py (`--help`)."""

from albert_tf.cli.run_squad import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
