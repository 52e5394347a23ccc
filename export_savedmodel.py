"""`albert-export` in a checkout: the command lives in albert_tf/cli/export_savedmodel.py (`--help`)."""

from albert_tf.cli.export_savedmodel import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
