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

from absl import app, flags

from albert_tf.training.classifier_runner import ClassifierParams, run_classifier
from albert_tf.training.runtime import define_runtime_flags, runtime_params_from_flags

FLAGS = flags.FLAGS

flags.DEFINE_string("task_name", None,
                    "GLUE task: cola, mnli, mismnli, mrpc, rte, sst-2, sts-b, qqp, qnli, wnli "
                    "or ax (case-insensitive).")
flags.DEFINE_string("data_dir", None, "glue_data folder (download_glue_data.py layout).")
flags.DEFINE_bool("use_tfds", False, "Read the tensorflow-datasets glue/* builders instead.")
flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data dir (with --use_tfds).")
flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (30k-clean.model).")
flags.DEFINE_string("output_dir", None, "Checkpoints, results and predictions go here.")
flags.DEFINE_string("cached_dir", None, "Where the TFRecord caches go (default output_dir).")
flags.DEFINE_string("init_checkpoint", None,
                    "Official-format checkpoint: pretrained, or fine-tuned (e.g. MNLI for "
                    "RTE/MRPC/STS-B; a head of another size is re-initialised).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the input (uncased models).")
flags.DEFINE_integer("max_seq_length", 512, "Tokens per example, after SentencePiece.")
flags.DEFINE_bool("do_train", False, "Fine-tune on the train set.")
flags.DEFINE_bool("do_eval", False, "Evaluate on the dev set (every checkpoint when training).")
flags.DEFINE_bool("do_predict", False, "Write test-set predictions.")
flags.DEFINE_integer("train_batch_size", 32, "Global train batch size.")
flags.DEFINE_integer("eval_batch_size", 8, "Global eval batch size.")
flags.DEFINE_integer("predict_batch_size", 8, "Global predict batch size.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate.")
flags.DEFINE_integer("train_step", 1000, "Optimizer steps.")
flags.DEFINE_integer("warmup_step", 0, "Linear warmup steps.")
flags.DEFINE_integer("save_checkpoints_steps", 1000, "Checkpoint (and eval) interval.")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Training checkpoints kept.")
flags.DEFINE_integer("iterations_per_loop", 1000, "Steps per compiled loop / progress line.")
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb"], "Optimizer.")
flags.DEFINE_float("dropout_prob", 0.1, "Classifier dropout on the pooled output.")
flags.DEFINE_float("hidden_dropout_prob", None,
                   "Encoder hidden dropout (paper's ALBERT DR); default: the config's.")
flags.DEFINE_float("attention_probs_dropout_prob", None,
                   "Encoder attention dropout; default: the config's.")
flags.DEFINE_bool("init_from_group0", False, "Initialise every layer group from group_0.")
flags.DEFINE_integer("gradient_accumulation_steps", 1,
                     "Micro-batches per optimizer step (train_batch_size is the total).")
flags.DEFINE_bool("trim_padding", True,
                  "Drop each batch's all-padding columns (same logits, less compute); "
                  "off on TPU, which needs static shapes.")
define_runtime_flags(flags)


def main(argv):
    del argv
    run_classifier(ClassifierParams(
        task_name=FLAGS.task_name, data_dir=FLAGS.data_dir, use_tfds=FLAGS.use_tfds,
        tfds_data_dir=FLAGS.tfds_data_dir, albert_config_file=FLAGS.albert_config_file,
        spm_model_file=FLAGS.spm_model_file, output_dir=FLAGS.output_dir,
        cached_dir=FLAGS.cached_dir, init_checkpoint=FLAGS.init_checkpoint,
        do_lower_case=FLAGS.do_lower_case, max_seq_length=FLAGS.max_seq_length,
        do_train=FLAGS.do_train, do_eval=FLAGS.do_eval, do_predict=FLAGS.do_predict,
        train_batch_size=FLAGS.train_batch_size, eval_batch_size=FLAGS.eval_batch_size,
        predict_batch_size=FLAGS.predict_batch_size, learning_rate=FLAGS.learning_rate,
        train_step=FLAGS.train_step, warmup_step=FLAGS.warmup_step,
        save_checkpoints_steps=FLAGS.save_checkpoints_steps,
        keep_checkpoint_max=FLAGS.keep_checkpoint_max,
        iterations_per_loop=FLAGS.iterations_per_loop, optimizer=FLAGS.optimizer,
        dropout_prob=FLAGS.dropout_prob, hidden_dropout_prob=FLAGS.hidden_dropout_prob,
        attention_probs_dropout_prob=FLAGS.attention_probs_dropout_prob,
        init_from_group0=FLAGS.init_from_group0,
        gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
        trim_padding=FLAGS.trim_padding,
        runtime=runtime_params_from_flags(FLAGS)))


if __name__ == "__main__":
    flags.mark_flags_as_required(["task_name", "albert_config_file", "spm_model_file",
                                  "output_dir"])
    app.run(main)
