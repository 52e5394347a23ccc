"""Pretrains ALBERT (masked LM + sentence-order prediction).

Flags follow google-research/albert run_pretraining.py, plus the distribution,
precision and robustness flags of albert_tf. Example (one host, 8 GPUs, the
paper's batch of 4096 through 8 x 2 accumulation steps of 256):

  python run_pretraining.py --albert_config_file=configs/albert_base_v2.json \
    --input_file='data/pretrain-*.tfrecord' --output_dir=out/base \
    --do_train --distribution_strategy=mirrored --mixed_precision=bfloat16 \
    --jit_compile --gradient_accumulation_steps=2
"""

from absl import app, flags

from albert_tf.training.pretraining import PretrainingParams, run_pretraining
from albert_tf.training.runtime import define_runtime_flags, runtime_params_from_flags

FLAGS = flags.FLAGS

flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("input_file", None, "TFRecord file(s): comma-separated globs.")
flags.DEFINE_string("eval_file", None, "Eval TFRecords (default: input_file).")
flags.DEFINE_string("output_dir", None, "Checkpoints, summaries and results go here.")
flags.DEFINE_string("init_checkpoint", None, "Official-format checkpoint to start from.")
flags.DEFINE_integer("max_seq_length", 512, "Sequence length of the data.")
flags.DEFINE_integer("max_predictions_per_seq", 20, "Masked positions per sequence.")
flags.DEFINE_bool("do_train", True, "Train (official default: on).")
flags.DEFINE_bool("do_eval", False, "Evaluate (after each checkpoint when training).")
flags.DEFINE_integer("train_batch_size", 4096, "Global train batch size.")
flags.DEFINE_integer("eval_batch_size", 64, "Global eval batch size.")
flags.DEFINE_enum("optimizer", "lamb", ["lamb", "adamw"], "Optimizer.")
flags.DEFINE_float("learning_rate", 0.00176, "Peak learning rate.")
flags.DEFINE_float("poly_power", 1.0, "Exponent of the polynomial decay.")
flags.DEFINE_integer("num_train_steps", 125000, "Optimizer steps.")
flags.DEFINE_integer("num_warmup_steps", 3125, "Linear warmup steps.")
flags.DEFINE_integer("start_warmup_step", 0, "Step at which warmup starts.")
flags.DEFINE_integer("save_checkpoints_steps", 5000, "Checkpoint (and eval) interval.")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Training checkpoints kept.")
flags.DEFINE_integer("iterations_per_loop", 1000,
                     "Steps per compiled loop (steps per execution) and per progress line.")
flags.DEFINE_integer("max_eval_steps", 100, "Eval batches.")
flags.DEFINE_bool("init_from_group0", False, "Initialise every group from group_0.")
define_runtime_flags(flags)
flags.DEFINE_integer("gradient_accumulation_steps", 1,
                     "Micro-batches per optimizer step (train_batch_size is the total).")
flags.DEFINE_bool("dynamic_masking", False, "Re-draw the n-gram masks every epoch.")
flags.DEFINE_float("masked_lm_prob", 0.15,
                   "With --dynamic_masking: share of tokens masked (as create_pretraining_data).")
flags.DEFINE_integer("ngram", 3, "With --dynamic_masking: longest masked n-gram, in words.")
flags.DEFINE_bool("favor_shorter_ngram", True,
                  "With --dynamic_masking: p(n) ~ 1/n (else reversed).")
flags.DEFINE_integer("masked_lm_budget", 0,
                     "Official flag: on-the-fly masking by a masked/unmasked n-gram ratio; "
                     "only 0 (masks from the data) is supported: see --dynamic_masking.")
flags.register_validator("masked_lm_budget", lambda value: value == 0,
                         "--masked_lm_budget > 0 (the official on-the-fly masking) is not "
                         "supported; the records' masks are used, or --dynamic_masking "
                         "re-draws them every epoch")
flags.DEFINE_float("loss_bound", None, "A loss above this counts as divergence.")
flags.DEFINE_integer("max_rollbacks", 0,
                     "On divergence, roll back to the last checkpoint this many times "
                     "before stopping.")


def main(argv):
    del argv
    runtime = runtime_params_from_flags(FLAGS)
    params = PretrainingParams(
        albert_config_file=FLAGS.albert_config_file, input_file=FLAGS.input_file,
        eval_file=FLAGS.eval_file, output_dir=FLAGS.output_dir,
        init_checkpoint=FLAGS.init_checkpoint, max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=FLAGS.max_predictions_per_seq, do_train=FLAGS.do_train,
        do_eval=FLAGS.do_eval, train_batch_size=FLAGS.train_batch_size,
        eval_batch_size=FLAGS.eval_batch_size, optimizer=FLAGS.optimizer,
        learning_rate=FLAGS.learning_rate, poly_power=FLAGS.poly_power,
        num_train_steps=FLAGS.num_train_steps, num_warmup_steps=FLAGS.num_warmup_steps,
        start_warmup_step=FLAGS.start_warmup_step,
        save_checkpoints_steps=FLAGS.save_checkpoints_steps,
        keep_checkpoint_max=FLAGS.keep_checkpoint_max,
        iterations_per_loop=FLAGS.iterations_per_loop, max_eval_steps=FLAGS.max_eval_steps,
        init_from_group0=FLAGS.init_from_group0,
        distribution_strategy=runtime.distribution_strategy, tpu=runtime.tpu,
        tpu_zone=runtime.tpu_zone, gcp_project=runtime.gcp_project,
        num_tpu_cores=runtime.num_tpu_cores,
        num_gpus=FLAGS.num_gpus, all_reduce_alg=FLAGS.all_reduce_alg,
        mixed_precision=FLAGS.mixed_precision, jit_compile=FLAGS.jit_compile,
        gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
        dynamic_masking=FLAGS.dynamic_masking, masked_lm_prob=FLAGS.masked_lm_prob,
        ngram=FLAGS.ngram, favor_shorter_ngram=FLAGS.favor_shorter_ngram,
        seed=FLAGS.random_seed,
        deterministic=FLAGS.deterministic, loss_bound=FLAGS.loss_bound,
        max_rollbacks=FLAGS.max_rollbacks)
    run_pretraining(params)


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "input_file", "output_dir"])
    app.run(main)
