"""`MultipleChoice`: RACE-style multiple choice on raw text, trained with `model.fit`.

    model = albert_tf.MultipleChoice.from_pretrained("out/race")        # + its spm model
    model.predict(articles, questions, options)   # options: 4 texts per question
    # {"answer": ["B", ...], "answer_index": [1, ...], "probabilities": [n, 4], "logits": ...}
    model.fit((articles, questions, options), answers, epochs=2)       # answers "A".."D" or 0-3

The model is the RACE scripts' `AlbertMultipleChoice` (same weights, head and official
variable names) behind a `MultipleChoicePreprocessor`, whose packing is the RACE
SavedModel's own (`export.race_module.pack_choices`): the same ids as
`tasks/race/features.py`, the same answers as `export_savedmodel.py --model_kind=race`.
"""

import keras
import numpy as np
import tensorflow as tf

from albert_tf.checkpoints import load_pretrained
from albert_tf.checkpoints.hub import resolve_pretrained
from albert_tf.modeling.models.multiple_choice import AlbertMultipleChoice
from albert_tf.text.loading import find_spm_model
from albert_tf.text.multiple_choice_preprocessor import INPUT_NAMES, \
    MultipleChoicePreprocessor, as_choice_tensors, choice_letters, split_choices
from albert_tf.text.raw_text_model import RawTextModel, is_features

# Official run_race.py: 512 tokens; cut to a smaller model's positions.
DEFAULT_MAX_SEQ_LENGTH = 512


@keras.saving.register_keras_serializable(package="albert_tf")
class MultipleChoice(RawTextModel):
    """Article, question and options in; one logit per option out.

    Inputs: `(articles, questions, options)` or a dict `article` / `question` /
    `options` (see `multiple_choice_preprocessor.split_choices`; rows that are not
    strings, option lists of another length and unequal counts are refused naming
    the row), or the features `input_ids`, `input_mask`, `segment_ids`
    `[batch, num_choices, seq_len]`. Output: float32 logits `[batch, num_choices]`.

    `fit` and `evaluate` take those inputs with answers (letters "A".. or ids 0..;
    see `answer_ids`), or a `tf.data.Dataset` of `(inputs, answer id)`; the
    packing runs in the input pipeline and each batch keeps only up to its
    longest packed input. Without `compile`, the first `fit` compiles the
    official recipe (`compile_official`) for exactly the steps it runs.

    Attributes:
      model: the `AlbertMultipleChoice` (for `save_official_checkpoint`,
        `export_savedmodel --model_kind=race`, or `run_race.py`).
      preprocessor: the `MultipleChoicePreprocessor`.

    Args:
      model, preprocessor: as above.
      learning_rate, warmup_proportion: of the recipe `fit` compiles (official
        RACE README 1e-5; warmup as a fraction of the training steps).
    """

    def __init__(self, model, preprocessor, learning_rate=1e-5, warmup_proportion=0.1,
                 name="multiple_choice", **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(model, AlbertMultipleChoice):
            raise TypeError(f"model must be an AlbertMultipleChoice, got "
                            f"{type(model).__name__}")
        limit = model.albert_config.max_position_embeddings
        if preprocessor.max_seq_length > limit:
            raise ValueError(f"max_seq_length ({preprocessor.max_seq_length}) exceeds the "
                             f"model's max_position_embeddings ({limit})")
        if preprocessor.num_choices != model.num_choices:
            raise ValueError(f"the preprocessor packs {preprocessor.num_choices} options, the "
                             f"model scores {model.num_choices}")
        if not 0.0 <= warmup_proportion < 1.0:
            raise ValueError(f"warmup_proportion must be in [0, 1), got {warmup_proportion}")
        self.model = model
        self.preprocessor = preprocessor
        self.learning_rate = float(learning_rate)
        self.warmup_proportion = float(warmup_proportion)
        self.built = True

    @classmethod
    def from_pretrained(cls, path, spm_model_file=None, max_seq_length=None, max_qa_length=128,
                        num_choices=4, do_lower_case=True, dropout_prob=0.1, dtype=None,
                        **kwargs):
        """A `MultipleChoice` on a pretrained or RACE fine-tuned checkpoint.

        Args:
          path: a checkpoint in any format `albert_tf.load_pretrained` reads (official,
            Trainer, transformers folder, keras-hub preset, `.keras`, hub id); `bert/*`
            always loads, the head (`output_weights`/`output_bias` of one unit) when
            the checkpoint has it, else it is new.
          spm_model_file: default: the one that came with the checkpoint.
          max_seq_length: tokens per option; default: official 512, cut to the
            model's max_position_embeddings (a given value above them is refused).
          max_qa_length: question+option tokens kept, from the end (official 128).
          num_choices: options per question (RACE: 4).
          do_lower_case: as pretrained (True for the official ALBERTs).
          dropout_prob: dropout before the head (official 0.1).
          dtype: Keras dtype policy; None: the global one.
          **kwargs: `MultipleChoice` arguments (learning_rate, warmup_proportion).
        """
        path = resolve_pretrained(path)
        model = load_pretrained(str(path), task="multiple_choice", num_choices=num_choices,
                                new_heads=True, dropout_prob=dropout_prob, dtype=dtype)
        spm_model_file = spm_model_file or model.spm_model_file or find_spm_model(path)
        if spm_model_file is None:
            raise FileNotFoundError(
                f"no SentencePiece model beside {path} (looked for 30k-clean.model, "
                f"spiece.model, spm.model, assets/tokenizer/vocabulary.spm); pass "
                f"spm_model_file=")
        if max_seq_length is None:
            max_seq_length = min(DEFAULT_MAX_SEQ_LENGTH,
                                 model.albert_config.max_position_embeddings)
        preprocessor = MultipleChoicePreprocessor(
            spm_model_file, max_seq_length=max_seq_length, do_lower_case=do_lower_case,
            max_qa_length=max_qa_length, num_choices=num_choices)
        return cls(model, preprocessor, **kwargs)

    @property
    def task_model(self):
        return self.model

    @property
    def num_choices(self):
        return self.model.num_choices

    @property
    def letters(self):
        """The answer letters, one per option ("A".."D" for RACE)."""
        return choice_letters(self.num_choices)

    # Model.
    def __call__(self, inputs, *args, **kwargs):
        # Keras only takes tensors: lists of str become tf.string tensors.
        if not is_features(inputs):
            inputs = dict(zip(INPUT_NAMES, as_choice_tensors(inputs, self.num_choices)))
        return super().__call__(inputs, *args, **kwargs)

    def compile_official(self, num_train_steps, learning_rate=None, warmup_proportion=None,
                         optimizer="adamw", **kwargs):
        """Compiles the official fine-tuning recipe for `num_train_steps` updates.

        As `run_race.py`: AdamW (no bias correction, weight decay 0.01 except
        LayerNorm and biases, gradients clipped to global norm 1.0), linear warmup
        then linear decay to 0; softmax cross-entropy over the options.
        **kwargs go to `compile`.
        """
        opt = self.official_optimizer(num_train_steps, learning_rate, warmup_proportion,
                                      optimizer)
        # XLA cannot compile the text ops, and trimmed batches vary in length.
        kwargs.setdefault("jit_compile", False)
        kwargs.setdefault("metrics", [keras.metrics.SparseCategoricalAccuracy(name="accuracy")])
        self.compile(optimizer=opt,
                     loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), **kwargs)

    # Input pipelines: the packing runs in tf.data, outside the training step.
    def choice_dataset(self, x, y=None, batch_size=None, shuffle=False, seed=None):
        """Batched `tf.data.Dataset` of (features[, answer ids]) (see the class doc)."""
        batch_size = batch_size or 32
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError("y must be None when x is a tf.data.Dataset (of (inputs, "
                                 "answer) elements)")
            dataset = x
            if tf.nest.flatten(dataset.element_spec)[0].shape.rank == 0:
                dataset = dataset.batch(batch_size)
        else:
            articles, questions, options = split_choices(x, self.num_choices)
            inputs = dict(zip(INPUT_NAMES, (_dataset_texts(articles), _dataset_texts(questions),
                                            _dataset_texts(options, self.num_choices))))
            if y is None:
                dataset = tf.data.Dataset.from_tensor_slices(inputs)
            else:
                answers = self.answer_ids(y)
                if len(answers) != len(articles):
                    raise ValueError(f"{len(articles)} questions but {len(answers)} answers")
                dataset = tf.data.Dataset.from_tensor_slices((inputs, answers))
            if shuffle:
                dataset = dataset.shuffle(len(articles), seed=seed,
                                          reshuffle_each_iteration=True)
            dataset = dataset.batch(batch_size)
        return self.packed_dataset(dataset)

    def fit(self, x=None, y=None, batch_size=None, epochs=1, validation_data=None,
            shuffle=True, steps_per_epoch=None, **kwargs):
        """`keras.Model.fit` on (articles, questions, options) and answers; compiles
        `compile_official` if not compiled."""
        dataset = self.choice_dataset(x, y, batch_size, shuffle=shuffle)
        if validation_data is not None:
            if not isinstance(validation_data, tf.data.Dataset):
                if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                    raise ValueError("validation_data must be (inputs, answers) or a "
                                     "tf.data.Dataset")
                validation_data = self.choice_dataset(*validation_data, batch_size)
            else:
                validation_data = self.choice_dataset(validation_data, batch_size=batch_size)
        if not self.compiled:
            steps = steps_per_epoch or int(dataset.cardinality())
            if steps <= 0:
                raise ValueError(
                    "the number of training steps is unknown (a dataset of unknown or "
                    "infinite length): pass steps_per_epoch, or call compile_official("
                    "num_train_steps=...) before fit")
            self.compile_official(num_train_steps=steps * epochs)
        # Already shuffled above (Keras does not shuffle a tf.data.Dataset).
        return super().fit(dataset, epochs=epochs, validation_data=validation_data,
                           steps_per_epoch=steps_per_epoch, shuffle=False, **kwargs)

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        """`keras.Model.evaluate` on (articles, questions, options) and answers."""
        return super().evaluate(self.choice_dataset(x, y, batch_size), **kwargs)

    def predict(self, articles, questions=None, options=None, batch_size=None, **kwargs):
        """The chosen option of each question, as the RACE SavedModel answers.

        `predict(articles, questions, options)`, or `predict(inputs)` with inputs
        as the class doc (a tuple, dict or tf.data.Dataset); one str article is a
        batch of one.

        Returns:
          dict of numpy [n]: `answer` (str letter), `answer_index` (int32), and
          [n, num_choices] float32 `probabilities` (softmax) and `logits`.
        """
        x = articles if questions is None and options is None else (
            articles, questions, options)
        if isinstance(x, tf.data.Dataset):
            logits = super().predict(self.choice_dataset(x, batch_size=batch_size), **kwargs)
        elif len(split_choices(x, self.num_choices)[0]) == 0:
            logits = np.zeros([0, self.num_choices], np.float32)
        else:
            logits = super().predict(self.choice_dataset(x, batch_size=batch_size), **kwargs)
        # The SavedModel's own ops (export.race_module), so the same float32 numbers.
        probabilities = tf.nn.softmax(logits, axis=-1).numpy()
        answer_index = tf.argmax(logits, axis=-1, output_type=tf.int32).numpy()
        return {"answer": np.array(self.letters, dtype=object)[answer_index],
                "answer_index": answer_index, "probabilities": probabilities,
                "logits": logits}

    def answer_ids(self, answers):
        """Answers -> numpy int32 ids: letters ("A".."D", as RACE's `answers`) or
        integer ids in [0, num_choices); anything else is refused naming the row."""
        if isinstance(answers, (str, bytes, int)):
            raise TypeError(f"answers must be a sequence (one per question), got {answers!r}")
        if hasattr(answers, "to_numpy"):  # pandas Series.
            answers = answers.to_numpy()
        letters = {letter: i for i, letter in enumerate(self.letters)}
        out = np.zeros(len(answers), np.int32)
        for row, answer in enumerate(answers):
            if isinstance(answer, bytes):
                answer = answer.decode("utf-8", "replace")
            if isinstance(answer, str):
                if answer not in letters:
                    raise ValueError(f"answers[{row}] is {answer!r}, not one of "
                                     f"{', '.join(self.letters)}")
                out[row] = letters[answer]
            elif isinstance(answer, (int, np.integer)) and not isinstance(
                    answer, (bool, np.bool_)) and 0 <= answer < self.num_choices:
                out[row] = int(answer)
            else:
                raise ValueError(f"answers[{row}] is {answer!r}: give a letter "
                                 f"({', '.join(self.letters)}) or an option id in [0, "
                                 f"{self.num_choices})")
        return out

    def get_config(self):
        return {
            "model": keras.saving.serialize_keras_object(self.model),
            "preprocessor": keras.saving.serialize_keras_object(self.preprocessor),
            "learning_rate": self.learning_rate,
            "warmup_proportion": self.warmup_proportion,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(
            config["model"], custom_objects={"AlbertMultipleChoice": AlbertMultipleChoice})
        config["preprocessor"] = keras.saving.deserialize_keras_object(
            config["preprocessor"],
            custom_objects={"MultipleChoicePreprocessor": MultipleChoicePreprocessor})
        return cls(**config)


def _dataset_texts(rows, num_choices=None):
    """Checked rows as one dtype for tf.data: an empty batch is tf.string."""
    if isinstance(rows, np.ndarray) and rows.size == 0:
        return tf.zeros([0] if num_choices is None else [0, num_choices], tf.string)
    return rows
