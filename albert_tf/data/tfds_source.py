"""Loading a tensorflow-datasets split that has been prepared (`--use_tfds`)."""


def load_prepared(name, split, data_dir=None, download=False):
    """`tfds.load(name, split=split)`; a dataset not prepared yet fails with the command
    that prepares it (the runners do not download: it can take hours, and needs the
    network)."""
    import tensorflow_datasets as tfds  # Heavy; only the tfds sources need it.

    try:
        return tfds.load(name, split=split, data_dir=data_dir, download=download)
    except AssertionError as e:  # tfds' own "could not find data in ..."
        if "could not find data" not in str(e):
            raise
        where = f" --data_dir={data_dir}" if data_dir else ""
        raise FileNotFoundError(
            f"tensorflow-datasets {name} is not prepared{' in ' + data_dir if data_dir else ''}"
            f": run `tfds build {name}{where}` first (or use the official files)") from None
