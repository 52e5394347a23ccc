"""`albert-pretraining-data` in a checkout: the command lives in albert_tf/cli/create_pretraining_data.py (`--help`)."""

from albert_tf.cli.create_pretraining_data import main, run  # noqa: F401 (lives there)

if __name__ == "__main__":
    run()
