"""`FineTuningParams`: the settings every fine-tuning run (GLUE, RACE, SQuAD) shares,
composed of the shared groups (output, model files, vocabulary, training loop) and
declared once; each task's params extend it (official flag names)."""

import dataclasses

from albert_tf.settings import ModelFiles, OutputSettings, Vocabulary, setting
from albert_tf.training.loop_params import TrainingLoopParams


@dataclasses.dataclass(kw_only=True)
class FineTuningParams(OutputSettings, ModelFiles, Vocabulary, TrainingLoopParams):
    """Shared fine-tuning settings; a task changes a default with `setting_of`."""

    do_train: bool = setting(False, "Fine-tune on the train set.")
    do_predict: bool = setting(False, "Write predictions on the test / predict set.")
    do_continuous_eval: bool = setting(
        False, "With the evaluation (--do_eval; run_squad: --do_predict on a file with "
               "answers) and without --do_train: evaluate each checkpoint that a training "
               "run in the same --output_dir saves, as it appears, until its last step or "
               "--eval_timeout seconds without a new one (Model Garden's "
               "mode=continuous_eval). Runs beside that training run; one evaluator per "
               "--output_dir.")
    eval_timeout: float = setting(
        3600.0, "--do_continuous_eval: seconds to wait for a new checkpoint before "
                "ending.", above=0)
    predict_batch_size: int = setting(8, "Global predict batch size.", min=1)
    dropout_prob: float = setting(
        0.1, "Dropout of the task head (classifiers: on the pooled output; SQuAD v2.0: the "
             "answer-class layer).", min=0, below=1)


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
