"""`albert-convert` in a checkout: the command lives in albert_tf/cli/convert_checkpoint.py (`--help`)."""

from albert_tf.cli.convert_checkpoint import main, run  # noqa: F401 (lives there)

if __name__ == "__main__":
    run()
