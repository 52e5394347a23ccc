"""Fine-tunes ALBERT on a GLUE task (google-research/albert run_classifier.py flags).

Example (RTE from an official ALBERT-base v2 checkpoint, paper Table 14):

  python run_classifier.py --task_name=RTE --data_dir=glue_data \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best --output_dir=out/rte \
    --do_train --do_eval --do_predict --max_seq_length=512 --optimizer=adamw \
    --learning_rate=3e-5 --train_batch_size=32 --train_step=800 --warmup_step=200 \
    --hidden_dropout_prob=0.1 --attention_probs_dropout_prob=0.1 --dropout_prob=0.1 \
    --save_checkpoints_steps=100
"""

from absl import flags

from albert_tf.cli.entry import start
from albert_tf.training.settings import define_flags as define_params_flags
from albert_tf.training.settings import params_from_flags, required_flags
from albert_tf.training.classifier_runner import ClassifierParams, run_classifier

FLAGS = flags.FLAGS


def define_flags():
    """Defines this command's flags (`ClassifierParams`'s fields); returns their names."""
    names = define_params_flags(ClassifierParams, module_name=__name__)
    return names


def main(argv):
    del argv
    run_classifier(params_from_flags(ClassifierParams))


def run():
    """The console script `albert-classifier`."""
    start(main, __doc__, __name__, define_flags, required_flags(ClassifierParams))


if __name__ == "__main__":
    run()
