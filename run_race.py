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

from albert_tf.cli.run_race import main, run  # noqa: F401 (the entry point lives there)

if __name__ == "__main__":
    run()
