"""albert_tf: ALBERT in TensorFlow 2 / Keras 3."""

import pathlib

from setuptools import find_packages, setup

README = pathlib.Path(__file__).with_name("README.md")

setup(
    name="albert_tf",
    version="0.1.0",
    description="ALBERT (A Lite BERT) in TensorFlow 2 / Keras 3: official checkpoints, "
                "pretraining, SQuAD/RACE/GLUE fine-tuning and raw-text SavedModels.",
    long_description=README.read_text(encoding="utf-8") if README.exists() else "",
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["albert_tf", "albert_tf.*"]),
    # The commands; the top-level run_*.py of a checkout are shims over the same modules.
    entry_points={"console_scripts": [
        "albert-pretraining-data = albert_tf.cli.create_pretraining_data:run",
        "albert-pretrain = albert_tf.cli.run_pretraining:run",
        "albert-classifier = albert_tf.cli.run_classifier:run",
        "albert-race = albert_tf.cli.run_race:run",
        "albert-squad = albert_tf.cli.run_squad:run",
        "albert-export = albert_tf.cli.export_savedmodel:run",
        "albert-vocab = albert_tf.cli.train_vocab:run",
        "albert-convert = albert_tf.cli.convert_checkpoint:run",
    ]},
    install_requires=[
        "tensorflow>=2.21,<2.22",
        "tensorflow-text>=2.21,<2.22",
        "keras>=3.15,<4",
        "sentencepiece>=0.2,<0.3",
        "absl-py>=2.1",
        "tensorflow-datasets>=4.9,<5",
        # tensorflow-datasets prepares data (`tfds build`, for --use_tfds) with it but
        # declares it only for Python < 3.9.
        "importlib_resources>=6",
        "numpy>=1.26",
        # Hugging Face checkpoints are read and written with safetensors' NumPy API
        # (keras-hub presets with h5py, which keras already needs): a small library
        # made for exactly this, so neither torch nor transformers is needed.
        "safetensors>=0.4",
        "h5py>=3.10",
        # `tensorboard --logdir <output_dir>`: summaries/train and summaries/eval.
        "tensorboard>=2.21,<2.22",
    ],
    extras_require={
        "test": ["pytest>=8", "hypothesis>=6.100",
                 # The exports are loaded as TF Hub users load them (hub.KerasLayer, which
                 # runs on tf-keras); tensorflow_hub 0.16 imports pkg_resources, which
                 # setuptools 81 removed.
                 "tensorflow-hub>=0.16", "tf-keras>=2.21,<2.22", "setuptools<81",
                 # The --format=tflite tests run the files in LiteRT's own interpreter.
                 "ai-edge-litert==2.3.0",
                 # tests/benchmarks check the transfer harness's picture.
                 "matplotlib>=3.7"],
        "jax": ["jax>=0.6"],
        # --format=tflite files run in LiteRT's own interpreter (tests/export/test_litert.py
        # runs both it and tf.lite.Interpreter); pinned: the version the tests ran with.
        "litert": ["ai-edge-litert==2.3.0"],
        # benchmarks/serving_bench.py's peers (with the interop extra's torch and
        # transformers); pinned to the versions of benchmarks/RESULTS.md's figures.
        "serving_bench": ["ai-edge-litert==2.3.0", "onnxruntime==1.32.0", "onnx==1.23.2"],
        # benchmarks/pretraining_transfer.py's picture (without it: the table and JSON only).
        "transfer": ["matplotlib>=3.7"],
        # The peers the checkpoint cross-checks (tests/interop) load and save with.
        "interop": ["transformers>=4.40", "torch>=2.2", "keras-hub>=0.20"],
        # create_pretraining_data.py --runner=DirectRunner/DataflowRunner/...; Beam's
        # TFRecord sink needs a CRC32C: google-crc32c (a wheel) is its fast one.
        "beam": ["apache-beam>=2.60,<3", "google-crc32c>=1.5",
                 # Beam needs protobuf < 7; sentencepiece 0.2.3 ships a model proto generated for
                 # protobuf 7 (its sentencepiece_model_pb2 then fails to import).
                 "sentencepiece<0.2.3"],
    },
)
