"""Fine-tunes ALBERT on SQuAD v1.1 or v2.0 (`--version_2_with_negative`), predicts and scores.

Flags follow google-research/albert run_squad_v1.py / run_squad_v2.py, plus
TFDS input and the albert_tf runtime flags. Example (SQuAD v2.0 from the
official albert_base_v2 release):

  python run_squad.py --version_2_with_negative \
    --albert_config_file=albert_base/albert_config.json \
    --spm_model_file=albert_base/30k-clean.model \
    --init_checkpoint=albert_base/model.ckpt-best \
    --train_file=train-v2.0.json --predict_file=dev-v2.0.json \
    --output_dir=out/squad2 --do_train --do_predict \
    --train_batch_size=48 --learning_rate=3e-5 --train_step=8144 --warmup_step=814
"""

from absl import app, flags

from albert_tf.training.runtime import define_runtime_flags, runtime_params_from_flags
from albert_tf.training.squad_runner import SquadParams, run_squad

FLAGS = flags.FLAGS

flags.DEFINE_string("albert_config_file", None, "albert_config.json of the model.")
flags.DEFINE_string("spm_model_file", None, "SentencePiece model (30k-clean.model).")
flags.DEFINE_string("output_dir", None, "Checkpoints, predictions and results go here.")
flags.DEFINE_bool("version_2_with_negative", False,
                  "SQuAD v2.0: unanswerable questions and the official v2 head.")
flags.DEFINE_string("init_checkpoint", None,
                    "Official-format checkpoint: pretrained, or fine-tuned to predict with.")
flags.DEFINE_string("train_file", None, "SQuAD JSON for training, e.g. train-v2.0.json.")
flags.DEFINE_string("predict_file", None, "SQuAD JSON to predict, e.g. dev-v2.0.json.")
flags.DEFINE_string("train_feature_file", None,
                    "Cached training features (default output_dir/train.tf_record); "
                    "made once, rebuilt when the data or settings change.")
flags.DEFINE_string("predict_feature_file", None,
                    "Cached prediction features (default output_dir/predict.tf_record).")
flags.DEFINE_string("predict_feature_left_file", None,
                    "Accepted for official command lines and ignored: the post-processing "
                    "data lives in <predict_feature_file>.meta.json.")
flags.DEFINE_string("tfds_name", None,
                    "Read a TFDS builder (squad/v1.1 or squad/v2.0) instead of JSON files.")
flags.DEFINE_string("tfds_data_dir", None, "TFDS data directory.")
flags.DEFINE_string("tfds_train_split", "train", "TFDS split to train on.")
flags.DEFINE_string("tfds_predict_split", "validation", "TFDS split to predict.")
flags.DEFINE_bool("do_lower_case", True, "Lower-case the input (uncased models).")
flags.DEFINE_integer("max_seq_length", 384, "Window length in tokens.")
flags.DEFINE_integer("doc_stride", 128, "Tokens between the starts of two windows.")
flags.DEFINE_integer("max_query_length", 64, "Question tokens kept.")
flags.DEFINE_bool("do_train", False, "Fine-tune.")
flags.DEFINE_bool("do_predict", False, "Predict (and score, with gold answers).")
flags.DEFINE_integer("train_batch_size", 32, "Global training batch size.")
flags.DEFINE_integer("predict_batch_size", 8, "Global prediction batch size.")
flags.DEFINE_float("learning_rate", 5e-5, "Peak learning rate of AdamW.")
flags.DEFINE_float("num_train_epochs", 3.0,
                   "Epochs over the questions (official: steps = questions / batch * epochs).")
flags.DEFINE_float("warmup_proportion", 0.1, "Share of the steps spent warming up.")
flags.DEFINE_integer("train_step", None, "Training steps (overrides num_train_epochs).")
flags.DEFINE_integer("warmup_step", None, "Warmup steps (overrides warmup_proportion).")
flags.DEFINE_enum("optimizer", "adamw", ["adamw", "lamb"], "Optimizer.")
flags.DEFINE_integer("save_checkpoints_steps", 1000,
                     "Checkpoint interval; with --do_predict each checkpoint is scored.")
flags.DEFINE_integer("iterations_per_loop", 1000, "Steps per compiled loop / progress line.")
flags.DEFINE_integer("keep_checkpoint_max", 5, "Training checkpoints kept.")
flags.DEFINE_integer("gradient_accumulation_steps", 1,
                     "Micro-batches per optimizer step (train_batch_size is the total).")
flags.DEFINE_integer("n_best_size", 20, "Answers kept per question in nbest_predictions.json.")
flags.DEFINE_integer("max_answer_length", 30, "Longest answer, in tokens.")
flags.DEFINE_integer("start_n_top", 5, "v2.0: start positions searched.")
flags.DEFINE_integer("end_n_top", 5, "v2.0: end positions searched per start.")
flags.DEFINE_float("dropout_prob", 0.1, "v2.0: dropout of the answer-class layer.")
flags.DEFINE_float("null_score_diff_threshold", None,
                   "v2.0: answer \"\" when the null odds reach this; default: tuned on the "
                   "gold answers as official (best_f1_thresh), none without gold.")
define_runtime_flags(flags)


def main(argv):
    del argv
    params = SquadParams(
        albert_config_file=FLAGS.albert_config_file, spm_model_file=FLAGS.spm_model_file,
        output_dir=FLAGS.output_dir, version_2_with_negative=FLAGS.version_2_with_negative,
        init_checkpoint=FLAGS.init_checkpoint, train_file=FLAGS.train_file,
        predict_file=FLAGS.predict_file, train_feature_file=FLAGS.train_feature_file,
        predict_feature_file=FLAGS.predict_feature_file, tfds_name=FLAGS.tfds_name,
        tfds_data_dir=FLAGS.tfds_data_dir, tfds_train_split=FLAGS.tfds_train_split,
        tfds_predict_split=FLAGS.tfds_predict_split, do_lower_case=FLAGS.do_lower_case,
        max_seq_length=FLAGS.max_seq_length, doc_stride=FLAGS.doc_stride,
        max_query_length=FLAGS.max_query_length, do_train=FLAGS.do_train,
        do_predict=FLAGS.do_predict, train_batch_size=FLAGS.train_batch_size,
        predict_batch_size=FLAGS.predict_batch_size, learning_rate=FLAGS.learning_rate,
        num_train_epochs=FLAGS.num_train_epochs, warmup_proportion=FLAGS.warmup_proportion,
        train_step=FLAGS.train_step, warmup_step=FLAGS.warmup_step, optimizer=FLAGS.optimizer,
        save_checkpoints_steps=FLAGS.save_checkpoints_steps,
        iterations_per_loop=FLAGS.iterations_per_loop,
        keep_checkpoint_max=FLAGS.keep_checkpoint_max,
        gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
        n_best_size=FLAGS.n_best_size, max_answer_length=FLAGS.max_answer_length,
        start_n_top=FLAGS.start_n_top, end_n_top=FLAGS.end_n_top,
        dropout_prob=FLAGS.dropout_prob,
        null_score_diff_threshold=FLAGS.null_score_diff_threshold,
        runtime=runtime_params_from_flags(FLAGS))
    run_squad(params)


if __name__ == "__main__":
    flags.mark_flags_as_required(["albert_config_file", "spm_model_file", "output_dir"])
    app.run(main)
