"""Fine-tunes ALBERT on RACE (google-research/albert run_race.py flags).

Example (from an official ALBERT-xxlarge v2 checkpoint; the v2 README's RACE
settings: learning rate 1e-5 and no encoder dropout, otherwise paper Table 14):

  python run_race.py --data_dir=race_data \
    --albert_config_file=albert_xxlarge/albert_config.json \
    --spm_model_file=albert_xxlarge/30k-clean.model \
    --init_checkpoint=albert_xxlarge/model.ckpt-best --output_dir=out/race \
    --do_train --do_eval --max_seq_length=512 --max_qa_length=128 \
    --learning_rate=1e-5 --train_batch_size=32 --train_step=12000 --warmup_step=1000 \
    --hidden_dropout_prob=0 --attention_probs_dropout_prob=0 --dropout_prob=0.1 \
    --save_checkpoints_steps=100
"""

from absl import app, flags

from albert_tf.training.race_runner import RaceParams, run_race
from albert_tf.training.runtime import define_runtime_flags, runtime_params_from_flags

FLAGS = flags.FLAGS

flags.DEFINE_string("task_name", "race", "Official flag: must be race.")
flags.register_validator("task_name", lambda value: (value or "").lower() == "race",
                         "run_race.py runs RACE only (--task_name=race)")
flags.DEFINE_string("data_dir", None,
                    "Folder holding RACE/{train,dev,test}/{middle,high}/ (official download "
                    "*.txt files or the official script's all.txt).")
flags.DEFINE_bool("use_tfds", False, "Read the tensorflow-datasets race/* builders instead.")
flags.DEFINE_string("tfds_data_dir", None, "tensorflow-datasets data dir (with --use_tfds).")
flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (30k-clean.model).")
flags.DEFINE_string("output_dir", None, "Checkpoints, results and predictions go here.")
flags.DEFINE_string("init_checkpoint", None,
                    "Official-format checkpoint: pretrained or fine-tuned on RACE.")
flags.DEFINE_string("train_file", None,
                    "Train TFRecord cache, written if absent or stale "
                    "(default <output_dir>/race_train.tf_record).")
flags.DEFINE_string("eval_file", None, "Dev TFRecord cache (default in output_dir).")
flags.DEFINE_string("predict_file", None, "Test TFRecord cache (default in output_dir).")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the input (uncased models).")
flags.DEFINE_float("dropout_prob", 0.1, "Classifier dropout on the pooled output.")
flags.DEFINE_float("hidden_dropout_prob", None,
                   "Encoder hidden dropout (paper's ALBERT DR); default: the config's.")
flags.DEFINE_float("attention_probs_dropout_prob", None,
                   "Encoder attention dropout; default: the config's.")
flags.DEFINE_integer("max_seq_length", 512, "Tokens per choice, after SentencePiece.")
flags.DEFINE_integer("max_qa_length", 128, "Question+option tokens kept (the last ones).")
flags.DEFINE_bool("high_only", False, "Use only the high-school passages.")
flags.DEFINE_bool("middle_only", False, "Use only the middle-school passages.")
flags.DEFINE_bool("do_train", True, "Fine-tune on the train set.")
flags.DEFINE_bool("do_eval", True, "Evaluate on the dev set (every checkpoint when training).")
flags.DEFINE_bool("do_predict", False, "Write test-set predictions.")
flags.DEFINE_integer("train_batch_size", 32, "Global train batch size.")
flags.DEFINE_integer("eval_batch_size", 8, "Global eval batch size.")
flags.DEFINE_integer("predict_batch_size", 8, "Global predict batch size.")
flags.DEFINE_float("learning_rate", 1e-5, "Peak learning rate.")
flags.DEFINE_integer("train_step", 12000, "Optimizer steps.")
flags.DEFINE_integer("warmup_step", 1000, "Linear warmup steps.")
flags.DEFINE_integer("save_checkpoints_steps", 100, "Checkpoint (and eval) interval.")
flags.DEFINE_integer("num_keep_checkpoint", 5, "Training checkpoints kept.")
flags.DEFINE_integer("iterations_per_loop", 1000, "Steps per compiled loop / progress line.")
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb"], "Optimizer.")
flags.DEFINE_bool("init_from_group0", False, "Initialise every layer group from group_0.")
flags.DEFINE_integer("gradient_accumulation_steps", 1,
                     "Micro-batches per optimizer step (train_batch_size is the total).")
flags.DEFINE_bool("trim_padding", True,
                  "Drop each batch's all-padding columns (same logits, less compute); "
                  "off on TPU, which needs static shapes.")
define_runtime_flags(flags)


def main(argv):
    del argv
    run_race(RaceParams(
        data_dir=FLAGS.data_dir, use_tfds=FLAGS.use_tfds, tfds_data_dir=FLAGS.tfds_data_dir,
        albert_config_file=FLAGS.albert_config_file, spm_model_file=FLAGS.spm_model_file,
        output_dir=FLAGS.output_dir, init_checkpoint=FLAGS.init_checkpoint,
        train_file=FLAGS.train_file, eval_file=FLAGS.eval_file,
        predict_file=FLAGS.predict_file, do_lower_case=FLAGS.do_lower_case,
        dropout_prob=FLAGS.dropout_prob, hidden_dropout_prob=FLAGS.hidden_dropout_prob,
        attention_probs_dropout_prob=FLAGS.attention_probs_dropout_prob,
        max_seq_length=FLAGS.max_seq_length, max_qa_length=FLAGS.max_qa_length,
        high_only=FLAGS.high_only, middle_only=FLAGS.middle_only, do_train=FLAGS.do_train,
        do_eval=FLAGS.do_eval, do_predict=FLAGS.do_predict,
        train_batch_size=FLAGS.train_batch_size, eval_batch_size=FLAGS.eval_batch_size,
        predict_batch_size=FLAGS.predict_batch_size, learning_rate=FLAGS.learning_rate,
        train_step=FLAGS.train_step, warmup_step=FLAGS.warmup_step,
        save_checkpoints_steps=FLAGS.save_checkpoints_steps,
        keep_checkpoint_max=FLAGS.num_keep_checkpoint,
        iterations_per_loop=FLAGS.iterations_per_loop, optimizer=FLAGS.optimizer,
        init_from_group0=FLAGS.init_from_group0,
        gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
        trim_padding=FLAGS.trim_padding,
        runtime=runtime_params_from_flags(FLAGS)))


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "spm_model_file", "output_dir"])
    app.run(main)
