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

from albert_tf.cli.run_squad import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
