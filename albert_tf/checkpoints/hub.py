"""Hub ids as `load_pretrained` takes them, resolved by the peer libraries themselves.

  "albert/albert-base-v2", "hf://albert/albert-base-v2"   Hugging Face Hub repo:
      `huggingface_hub.snapshot_download` (its cache, HF_HUB_CACHE, HF_HUB_OFFLINE);
  "albert_base_en_uncased"   a keras-hub preset name: keras-hub's own table of
      presets gives its Kaggle handle;
  "kaggle://keras/albert/keras/albert_base_en_uncased/5"   a Kaggle model handle:
      `kagglehub.model_download` (its cache, KAGGLEHUB_CACHE).

A path that exists locally always wins over an id; a missing library or an id
that is not in the cache while offline is an error that says what to install or
download.
"""

import glob
import os

from absl import logging

HF_SCHEME = "hf://"
KAGGLE_SCHEME = "kaggle://"
# What albert_tf reads from a transformers repo (not the TF/Flax/ONNX copies).
HF_FILES = ["config.json", "model.safetensors", "model-*.safetensors",
            "model.safetensors.index.json", "spiece.model", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "label_list.txt"]


def exists_locally(path):
    """A file, a folder, a checkpoint prefix (`model.ckpt-best.index` beside) or a
    path of a TensorFlow file system (gs://...)."""
    path = str(path)
    if "://" in path and not path.startswith((HF_SCHEME, KAGGLE_SCHEME)):
        return True  # gs://, s3://...: read through tf.io.gfile as before.
    return os.path.exists(path) or bool(glob.glob(glob.escape(path) + ".*"))


def resolve_pretrained(path):
    """`path` itself when it exists locally, else the local folder of the hub id it
    names (see module docstring). Raises FileNotFoundError / ImportError saying what
    to install or download."""
    path = str(path)
    if exists_locally(path):
        return path
    if path.startswith(KAGGLE_SCHEME):
        return _kaggle(path[len(KAGGLE_SCHEME):], path)
    if path.startswith(HF_SCHEME):
        return _hugging_face(path[len(HF_SCHEME):], path)
    handle = _keras_hub_preset_handle(path)
    if handle is not None:
        return _kaggle(handle[len(KAGGLE_SCHEME):], path)
    parts = path.split("/")
    if len(parts) == 2 and all(parts) and not path.startswith((".", "~")):
        return _hugging_face(path, path)
    if os.path.isabs(path) or path.startswith((".", "~")) or len(parts) > 2:
        # A path, not an id: its reader names the missing file (e.g. `model.ckpt.index`).
        return path
    raise FileNotFoundError(
        f"{path}: no such file or folder, and not a hub id (a Hugging Face repo "
        "'org/name' or 'hf://org/name', a keras-hub preset name such as "
        "'albert_base_en_uncased' with keras-hub installed, or 'kaggle://owner/model/"
        "keras/variation[/version]')")


def _keras_hub_preset_handle(name):
    """The Kaggle handle keras-hub's preset table gives `name`, or None."""
    if "/" in name or os.sep in name:
        return None
    try:
        import keras_hub  # noqa: F401  (registers its presets)
        from keras_hub.src.utils.preset_utils import BUILTIN_PRESETS
    except ImportError:
        if name.startswith("albert_") and name.endswith(("_en_uncased", "_en")):
            raise ImportError(
                f"{name}: not a local path; as a keras-hub preset name it needs keras-hub "
                f"and kagglehub (pip install keras-hub kagglehub), or download the preset "
                f"from https://www.kaggle.com/models/keras/albert and pass its folder"
            ) from None
        return None
    preset = BUILTIN_PRESETS.get(name)
    return None if preset is None else preset["kaggle_handle"]


def _kaggle(handle, named):
    try:
        import kagglehub
    except ImportError:
        raise ImportError(f"{named}: a Kaggle model handle needs kagglehub (pip install "
                          f"kagglehub), or download https://www.kaggle.com/models/"
                          f"{handle} and pass its folder") from None
    try:
        directory = kagglehub.model_download(handle)
    except Exception as e:  # kagglehub raises its HTTP/API errors and ValueErrors.
        raise FileNotFoundError(
            f"{named}: kagglehub could not give kaggle://{handle} ({type(e).__name__}: "
            f"{e}); without network, download it where there is one into the same "
            f"KAGGLEHUB_CACHE, or pass the preset folder") from e
    logging.info("%s: keras-hub preset in %s", named, directory)
    return directory


def _hugging_face(repo_id, named):
    try:
        import huggingface_hub
        from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError
    except ImportError:
        raise ImportError(
            f"{named}: not a local path; as a Hugging Face id it needs huggingface_hub "
            f"(pip install huggingface_hub), or download it yourself: huggingface-cli "
            f"download {repo_id} --local-dir {repo_id.split('/')[-1]}") from None
    try:
        directory = huggingface_hub.snapshot_download(repo_id, allow_patterns=HF_FILES)
        if not glob.glob(os.path.join(directory, "*.safetensors")):
            # An older repo with only the pickled PyTorch weights.
            directory = huggingface_hub.snapshot_download(
                repo_id, allow_patterns=HF_FILES + ["pytorch_model.bin"])
    except HFValidationError:
        raise FileNotFoundError(f"{named}: no such file or folder, and not a valid Hugging "
                                "Face repo id ('org/name')") from None
    except LocalEntryNotFoundError as e:
        raise FileNotFoundError(
            f"{named}: not in the Hugging Face cache "
            f"({huggingface_hub.constants.HF_HUB_CACHE}) and the Hub cannot be reached "
            f"(HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '')!r}); download it where "
            f"there is network: huggingface-cli download {repo_id}") from e
    logging.info("%s: Hugging Face snapshot in %s", named, directory)
    return directory
