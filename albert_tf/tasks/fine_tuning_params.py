"""`FineTuningParams`: the settings every fine-tuning run (GLUE, RACE, SQuAD) shares,
declared once; each task's params extend it (official flag names)."""

import dataclasses

from albert_tf.training.runtime import RuntimeParams
from albert_tf.settings import setting


@dataclasses.dataclass(kw_only=True)
class FineTuningParams:
    """Shared fine-tuning settings; a task redeclares a field to change its default."""

    init_checkpoint: str = setting(
        None, "Checkpoint to start from: official format (pretrained, or fine-tuned, e.g. "
              "MNLI for RTE/MRPC/STS-B), a transformers folder or a keras-hub preset; a "
              "task head of another size is re-initialised.")
    do_lower_case: bool = setting(True, "Lower-case the input (uncased models).")
    do_train: bool = setting(False, "Fine-tune on the train set.")
    do_predict: bool = setting(False, "Write predictions on the test / predict set.")
    train_batch_size: int = setting(32, "Global train batch size.", min=1)
    predict_batch_size: int = setting(8, "Global predict batch size.", min=1)
    learning_rate: float = setting(5e-5, "Peak learning rate.", above=0)
    optimizer: str = setting("adamw", "Optimizer.", choices=["adamw", "lamb"])
    save_checkpoints_steps: int = setting(
        1000, "Checkpoint interval; when evaluating, each checkpoint is scored.", min=1)
    keep_checkpoint_max: int = setting(5, "Training checkpoints kept.", min=1)
    iterations_per_loop: int = setting(1000, "Steps per compiled loop / progress line.", min=1)
    gradient_accumulation_steps: int = setting(
        1, "Micro-batches per optimizer step (train_batch_size is the total).", min=1)
    dropout_prob: float = setting(
        0.1, "Dropout of the task head (classifiers: on the pooled output; SQuAD v2.0: the "
             "answer-class layer).", min=0, below=1)
    init_from_group0: bool = setting(False, "Initialise every layer group from group_0.")
    runtime: RuntimeParams = setting(default_factory=RuntimeParams, help="Runtime settings.")


@dataclasses.dataclass(kw_only=True)
class ClassificationParams(FineTuningParams):
    """What GLUE and RACE add: dev evaluation, encoder dropout, padding trim, TFDS."""

    do_eval: bool = setting(False, "Evaluate on the dev set (every checkpoint when training).")
    eval_batch_size: int = setting(8, "Global eval batch size.", min=1)
    train_step: int = setting(1000, "Optimizer steps.", min=1)
    warmup_step: int = setting(0, "Linear warmup steps.", min=0)
    hidden_dropout_prob: float = setting(
        None, "Encoder hidden dropout (paper's ALBERT DR); default: the config's.",
        min=0, below=1)
    attention_probs_dropout_prob: float = setting(
        None, "Encoder attention dropout; default: the config's.", min=0, below=1)
    trim_padding: bool = setting(
        True, "Drop each batch's all-padding columns (same logits, less compute); off on "
              "TPU, which needs static shapes.")
    use_tfds: bool = setting(False, "Read the tensorflow-datasets builders instead of "
                                    "--data_dir.")
    tfds_data_dir: str = setting(None, "tensorflow-datasets data dir (with --use_tfds).")
