"""Own data end to end: SST-2 rows as a user's CSV, fine-tuned with `TextClassifier.fit`,
scored on the held-out SST-2 dev set (slow: a few minutes on 2 cores)."""

import shutil

import keras
import numpy as np
import pytest

import albert_tf
from albert_tf.checkpoints import save_official_checkpoint
from albert_tf.config import AlbertConfig
from albert_tf.tasks.custom.reader import CustomDataParams, CustomTextProcessor
from albert_tf.modeling import AlbertEncoder

from custom_test_helpers import sst2_rows, write_reviews_csv

from finetune_test_helpers import TINY_CONFIG  # noqa: E402

NUM_TRAIN = 4000


@pytest.mark.slow
def test_fine_tuning_on_a_csv_beats_the_majority_class(shared_data_dir, spm_model_file,
                                                       tmp_path):
    # A tiny randomly initialised ALBERT (no pretrained tiny checkpoint exists), saved
    # as an official pretrained checkpoint folder.
    keras.utils.set_random_seed(1)
    config = AlbertConfig.from_dict(TINY_CONFIG)
    save_official_checkpoint(AlbertEncoder(config), str(tmp_path / "ckpt" / "model.ckpt-0"))
    config.to_json_file(str(tmp_path / "ckpt" / "albert_config.json"))
    shutil.copy(spm_model_file, tmp_path / "ckpt" / "30k-clean.model")

    train = write_reviews_csv(tmp_path / "train.csv",
                              sst2_rows(shared_data_dir, count=NUM_TRAIN))
    dev = write_reviews_csv(tmp_path / "dev.csv", sst2_rows(shared_data_dir, "dev"))
    processor = CustomTextProcessor(CustomDataParams(
        train_file=train, eval_file=dev, text_a_column="review", label_column="sentiment"))
    labels = processor.resolve_label_list(str(tmp_path / "out"))

    def texts_and_ids(examples):
        return [e.text_a for e in examples], np.array([labels.index(e.label) for e in examples])

    train_texts, train_ids = texts_and_ids(processor.get_train_examples(None))
    dev_texts, dev_ids = texts_and_ids(processor.get_dev_examples(None))

    model = albert_tf.TextClassifier.from_pretrained(
        str(tmp_path / "ckpt"), num_labels=len(labels), max_seq_length=64,
        learning_rate=3e-4)
    model.fit(train_texts, train_ids, epochs=4, batch_size=32, verbose=0)
    accuracy = float(np.mean(np.argmax(model.predict(dev_texts, verbose=0), -1) == dev_ids))
    majority = max(np.mean(dev_ids), 1 - np.mean(dev_ids))
    print(f"SST-2 dev accuracy {accuracy:.4f} after {NUM_TRAIN} training rows "
          f"(majority class {majority:.4f})")
    assert accuracy > majority + 0.1
