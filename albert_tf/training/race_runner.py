"""`run_race(params)`: RACE fine-tuning and evaluation, the library behind run_race.py.

Follows google-research/albert `run_race.py` / `race_utils.py`: the same flags,
encoding (`race_features`), head (`AlbertMultipleChoice`) and 4-way softmax loss.
With `do_train` and `do_eval`, every saved checkpoint is evaluated on the dev set and
the best is kept as `model.ckpt-best`, as the official script does; without
`do_train`, the checkpoints already in output_dir are evaluated (see `classifier_runner`).

Outputs in `output_dir`:
    albert_config.json, model.ckpt-<train_step> (+ `checkpoint` state file): the
        fine-tuned model in the official format (usable as `--init_checkpoint`).
    model.ckpt-best, best_eval.json: the best dev checkpoint (with do_eval).
    eval_results.json: that checkpoint's `accuracy`, `accuracy_middle`,
        `accuracy_high`, `num_examples` (+ per level), `loss`, `global_step`;
        eval_history.jsonl: every evaluation; eval_results.txt, best_trial.txt: the
        official text logs.
    predictions.json: {"<passage id>-<question index>": "A".."D"} on the dev set for
        the same checkpoint; with do_predict, test_predictions.json, test_results.tsv
        (the 4 probabilities per question) and the test accuracy (RACE's test answers
        are public) in test_results.json and, as official, predict_results.txt.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from albert_tf.data import classifier_features, prediction_writers, race, race_features
from albert_tf.evaluation.classification_metrics import race_metrics
from albert_tf.modeling.models import AlbertMultipleChoice
from albert_tf.tokenization import FullTokenizer
from albert_tf.training import classification_task
from albert_tf.training.classifier_runner import (
    OFFICIAL_METRIC_NAMES, BestCheckpoint, check_common_params, check_labels,
    evaluate_without_training, initial_weights, load_config, make_trainer,
    ordered_dataset_fn, padding_multiple, predict_in_order, print_results, real_rows,
    save_final_model, write_json)
from albert_tf.training.runtime import RuntimeParams, setup_runtime
from albert_tf.training.saved_checkpoints import trainer_checkpoint


@dataclasses.dataclass
class RaceParams:
    """Settings of a RACE run; names and defaults follow official run_race.py flags."""

    data_dir: str
    output_dir: str
    albert_config_file: str
    spm_model_file: str
    init_checkpoint: str = None
    train_file: str = None              # TFRecord caches; default <output_dir>/race_*.tf_record
    eval_file: str = None
    predict_file: str = None
    use_tfds: bool = False              # read the tfds `race/*` builders, not data_dir
    tfds_data_dir: str = None
    do_lower_case: bool = True
    dropout_prob: float = 0.1           # classifier dropout on the pooled output
    hidden_dropout_prob: float = None   # encoder dropout ("ALBERT DR"); None: config's
    attention_probs_dropout_prob: float = None
    max_seq_length: int = 512
    max_qa_length: int = 128
    high_only: bool = False
    middle_only: bool = False
    do_train: bool = True
    do_eval: bool = True
    do_predict: bool = False
    train_batch_size: int = 32
    eval_batch_size: int = 8
    predict_batch_size: int = 8
    learning_rate: float = 1e-5
    train_step: int = 12000
    warmup_step: int = 1000
    save_checkpoints_steps: int = 100
    keep_checkpoint_max: int = 5
    iterations_per_loop: int = 1000
    optimizer: str = "adamw"
    init_from_group0: bool = False
    gradient_accumulation_steps: int = 1
    trim_padding: bool = True           # drop each batch's padding columns (not official)
    runtime: RuntimeParams = dataclasses.field(default_factory=RuntimeParams)


def _check_params(params):
    check_common_params(params)
    if params.high_only and params.middle_only:
        raise ValueError("--high_only and --middle_only cannot both be set")
    if not params.use_tfds and not params.data_dir:
        raise ValueError("--data_dir is required (or --use_tfds)")
    if params.max_qa_length < 1 or params.max_qa_length > params.max_seq_length - 3:
        raise ValueError(f"--max_qa_length ({params.max_qa_length}) must be in "
                         f"[1, max_seq_length - 3 = {params.max_seq_length - 3}]")


def run_race(params):
    """Trains / evaluates / predicts per `params`; returns {"train", "eval", "predict"}."""
    _check_params(params)
    strategy = setup_runtime(params.runtime)
    processor = race.RaceProcessor(do_lower_case=params.do_lower_case,
                                   high_only=params.high_only, middle_only=params.middle_only)
    config = load_config(params)
    # Every input is read (and bad passages reported) before the model is built.
    wanted = [(split, path, name, batch) for split, do, path, name, batch in (
        ("train", params.do_train, params.train_file, "race_train.tf_record", None),
        ("dev", params.do_eval, params.eval_file, "race_eval.tf_record",
         params.eval_batch_size),
        ("test", params.do_predict, params.predict_file, "race_predict.tf_record",
         params.predict_batch_size)) if do]
    examples = {}
    for split, _, _, _ in wanted:
        if params.use_tfds:
            examples[split] = processor.get_tfds_examples(split, data_dir=params.tfds_data_dir)
        else:
            examples[split] = processor.get_examples(params.data_dir, split)
        if not examples[split]:
            raise ValueError(f"the RACE {split} set is empty")

    tokenizer = FullTokenizer(params.spm_model_file, do_lower_case=params.do_lower_case)
    tf.io.gfile.makedirs(params.output_dir)
    files = {}
    for split, path, default_name, batch_size in wanted:
        records = examples[split]
        if batch_size:
            records = classifier_features.pad_to_batch_multiple(records, batch_size)
        files[split] = path or os.path.join(params.output_dir, default_name)
        race_features.ensure_race_tfrecord(records, params.max_seq_length, tokenizer,
                                           files[split], params.max_qa_length)

    def in_order(split, batch_size):
        dataset_fn = ordered_dataset_fn(files[split], params.max_seq_length, batch_size,
                                        num_choices=race.NUM_CHOICES,
                                        trim_padding_multiple=multiple)
        outputs = predict_in_order(strategy, model, dataset_fn, task.model_inputs)
        return real_rows(outputs, len(examples[split]), f"RACE {split}")

    with strategy.scope():
        model = AlbertMultipleChoice(
            config, num_choices=race.NUM_CHOICES, dropout_prob=params.dropout_prob,
            hidden_dropout_prob=params.hidden_dropout_prob,
            attention_probs_dropout_prob=params.attention_probs_dropout_prob)
        loaded_step = initial_weights(model, params)
    task = classification_task.MultipleChoiceTask()
    multiple = padding_multiple(params, strategy)
    best = BestCheckpoint(params.output_dir, "accuracy")
    results = {"train": None, "eval": None, "predict": None}

    def score(split, batch_size):
        """(metrics, logits) of `split`: accuracy overall and per level, mean loss."""
        split_examples = examples[split]
        outputs = in_order(split, batch_size)
        logits, labels = outputs["logits"], outputs["label_ids"]
        check_labels(labels, [e.label for e in split_examples], files[split])
        metrics = race_metrics(logits, labels, [e.level for e in split_examples])
        metrics["loss"] = float(np.mean(classification_task.numpy_per_example_loss(
            logits, labels)))
        return metrics, logits

    dev_logits = {}  # step -> dev logits, until keep_best has used them

    def evaluate_dev(step):
        metrics, dev_logits[step] = score("dev", params.eval_batch_size)
        if step is not None:
            metrics["global_step"] = int(step)
        print_results(f"eval RACE at step {step}", metrics)
        results["eval"] = metrics
        return metrics

    def keep_best(step, metrics, checkpoint=None):
        if best.update(model, step, metrics, checkpoint):
            write_eval(metrics, dev_logits[step])
        dev_logits.clear()

    def write_eval(metrics, logits):
        write_json(os.path.join(params.output_dir, "eval_results.json"), metrics)
        prediction_writers.write_race_predictions(
            os.path.join(params.output_dir, "predictions.json"),
            [e.example_id for e in examples["dev"]], logits)

    if params.do_train:
        print(f"Training RACE: {len(examples['train'])} questions, batch "
              f"{params.train_batch_size}, {params.train_step} steps", flush=True)

        def train_input(input_context):
            return race_features.race_dataset(
                files["train"], params.max_seq_length, params.train_batch_size,
                is_training=True, seed=params.runtime.seed, input_context=input_context,
                trim_padding_multiple=multiple)

        trainer = make_trainer(strategy, model, task, params)

        def on_checkpoint(step, metrics):
            if metrics is not None:
                keep_best(step, metrics, trainer_checkpoint(params.output_dir, step))
            if step >= params.train_step:
                save_final_model(model, config, params.output_dir, step)

        results["train"] = trainer.train(train_input,
                                         eval_fn=evaluate_dev if params.do_eval else None,
                                         on_checkpoint=on_checkpoint)
        if not tf.io.gfile.exists(os.path.join(params.output_dir,
                                               f"model.ckpt-{trainer.global_step}.index")):
            save_final_model(model, config, params.output_dir, trainer.global_step)
        if params.do_eval:
            if best.best is None:  # Training had already finished, without evaluation.
                keep_best(trainer.global_step, evaluate_dev(trainer.global_step),
                          trainer_checkpoint(params.output_dir, trainer.global_step))
            best.restore_into(model)
            results["eval"] = dict(best.best)
    elif params.do_eval:
        results["eval"] = evaluate_without_training(
            model, best, loaded_step, evaluate_dev, keep_best,
            lambda metrics: write_eval(metrics, dev_logits.pop(loaded_step)))

    if params.do_predict:
        # RACE's test answers are public: the test accuracy is what the paper reports
        # (official: predict_results.txt).
        test_metrics, logits = score("test", params.predict_batch_size)
        print_results("test RACE", test_metrics)
        write_json(os.path.join(params.output_dir, "test_results.json"), test_metrics)
        with tf.io.gfile.GFile(os.path.join(params.output_dir, "predict_results.txt"),
                               "w") as f:
            for key, value in sorted(test_metrics.items()):
                f.write(f"{OFFICIAL_METRIC_NAMES.get(key, key)} = {value}\n")
        shifted = logits - logits.max(axis=-1, keepdims=True)
        probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=-1, keepdims=True)
        letters_file = prediction_writers.write_race_predictions(
            os.path.join(params.output_dir, "test_predictions.json"),
            [e.example_id for e in examples["test"]], logits)
        probabilities_file = prediction_writers.write_probabilities(
            os.path.join(params.output_dir, "test_results.tsv"), probabilities)
        print(f"Wrote {len(examples['test'])} test predictions to {letters_file}",
              flush=True)
        results["predict"] = {"predictions_file": letters_file,
                              "probabilities_file": probabilities_file,
                              "num_examples": len(examples["test"]), **test_metrics}
    return results
